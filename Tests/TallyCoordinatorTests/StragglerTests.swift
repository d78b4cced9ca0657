import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import TallyStore
import Testing

@testable import TallyCoordinator

/// Stragglers: a task running far longer than its job's finished ones is leased a second time
/// to another worker; the first upload wins and the report is the same.
@Suite struct StragglerTests {
    /// Copies once half the tasks are done, for a task running 3× the median and at least 5 s;
    /// at most one copy for the fixture's two tasks.
    static var policy: StragglerPolicy {
        var policy = StragglerPolicy()
        policy.afterDoneShare = 0.5
        policy.slowerThanMedian = 3
        policy.floorSeconds = 5
        policy.maxCopyShare = 0.5
        return policy
    }

    /// A holds task 0 and goes quiet (but heartbeats); B finishes task 1 in 2 s. Returns A's
    /// grant once a copy of it is due (6.5 s after A's lease).
    private func straggle(_ fixture: Fixture, _ coordinator: Coordinator, _ client: any TestClientProtocol) async throws -> (
        job: JobStatus, slow: LeaseGrant
    ) {
        let job = try await submit(client)
        await coordinator.runOnce()
        let slow = try #require(try await lease(client, worker: "A"))
        let fast = try #require(try await lease(client, worker: "B"))
        fixture.clock.advance(by: 2)
        try await expectUpload(client, fast.leaseId, try await partialBytes(for: fast), committed: true)
        // 2 s into A's task: not a straggler yet (3 × 2 s median = 6 s).
        #expect(try await lease(client, worker: "C") == nil)
        fixture.clock.advance(by: 3)
        _ = try await heartbeat(client, slow.leaseId)
        #expect(try await lease(client, worker: "C") == nil)
        fixture.clock.advance(by: 1.5)
        // A is never given a copy of its own task.
        #expect(try await lease(client, worker: "A") == nil)
        return (job, slow)
    }

    @Test func aStragglerIsCopiedAndTheCopyThatCommitsFirstWins() async throws {
        let fixture = try Fixture(stragglers: Self.policy)
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let (job, slow) = try await straggle(fixture, coordinator, client)
            let copy = try #require(try await lease(client, worker: "C"))
            #expect(copy.task == slow.task)
            #expect(copy.leaseId != slow.leaseId)
            // One copy per job here: no more.
            #expect(try await lease(client, worker: "D") == nil)

            try await expectUpload(client, copy.leaseId, try await partialBytes(for: copy), committed: true)
            // The first lease hears it should stop, and its late upload is acknowledged and dropped.
            #expect(try await heartbeat(client, slow.leaseId).decode(HeartbeatReply.self).action == .stop)
            let late = try await upload(client, slow.leaseId, try await partialBytes(for: slow))
            #expect(late.status == .ok)
            let reply = try late.decode(UploadReply.self)
            #expect(reply.committed == false)
            #expect(reply.reason == "another copy of the task committed first")

            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded)
            #expect(done.statistics.taskCopiesStarted == 1)
            #expect(done.statistics.taskCopiesWon == 1)
            #expect(try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).bytes == ExpectedReport.csv)
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metric(metrics, "tally_task_copies_started_total") == 1, "\(metrics)")
            #expect(metric(metrics, "tally_task_copies_won_total") == 1, "\(metrics)")
            #expect(metric(metrics, "tally_uploads_ignored_total") == 1, "\(metrics)")
        }
    }

    @Test func theFirstLeaseMayStillWin() async throws {
        let fixture = try Fixture(stragglers: Self.policy)
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let (job, slow) = try await straggle(fixture, coordinator, client)
            let copy = try #require(try await lease(client, worker: "C"))
            try await expectUpload(client, slow.leaseId, try await partialBytes(for: slow), committed: true)
            #expect(try await heartbeat(client, copy.leaseId).decode(HeartbeatReply.self).action == .stop)
            try await expectUpload(client, copy.leaseId, try await partialBytes(for: copy), committed: false)
            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded)
            #expect(done.statistics.taskCopiesStarted == 1)
            #expect(done.statistics.taskCopiesWon == 0)
            #expect(try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).bytes == ExpectedReport.csv)
        }
    }

    @Test func whenTheFirstLeaseExpiresOrFailsTheCopyCarriesOn() async throws {
        for ending in ["expires", "fails"] {
            let fixture = try Fixture(leaseSeconds: 10, stragglers: Self.policy)
            let coordinator = try fixture.coordinator()
            try await withClient(coordinator) { client in
                let (job, slow) = try await straggle(fixture, coordinator, client)
                let copy = try #require(try await lease(client, worker: "C"))
                if ending == "expires" {
                    // A stops heartbeating; C keeps its copy alive past A's deadline.
                    fixture.clock.advance(by: 5)
                    _ = try await heartbeat(client, copy.leaseId)
                    fixture.clock.advance(by: 5)
                    await coordinator.runOnce()
                    try expectError(try await heartbeat(client, slow.leaseId), .gone, field: "lease")
                } else {
                    let failed = try await client.execute(
                        uri: "/v1/worker/leases/\(slow.leaseId)/failure", method: .post,
                        headers: jsonHeaders, body: json(#"{"reason":"HTTP 503"}"#))
                    #expect(failed.status == .noContent)
                }
                // The task is not pending again: nobody else gets it; the copy still holds it.
                #expect(try await lease(client, worker: "D") == nil, "\(ending)")
                #expect(try await heartbeat(client, copy.leaseId).decode(HeartbeatReply.self).action == .continue, "\(ending)")
                try await expectUpload(client, copy.leaseId, try await partialBytes(for: copy), committed: true)
                await coordinator.runOnce()
                let done = try await getJob(client, job.id)
                #expect(done.state == .succeeded, "\(ending): \(done.error ?? "-")")
                #expect(try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).bytes == ExpectedReport.csv)
            }
        }
    }

    @Test func aFailedCopyLeavesTheFirstLeaseRunning() async throws {
        let fixture = try Fixture(stragglers: Self.policy)
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let (job, slow) = try await straggle(fixture, coordinator, client)
            let copy = try #require(try await lease(client, worker: "C"))
            let failed = try await client.execute(
                uri: "/v1/worker/leases/\(copy.leaseId)/failure", method: .post,
                headers: jsonHeaders, body: json(#"{"reason":"HTTP 503"}"#))
            #expect(failed.status == .noContent)
            #expect(try await heartbeat(client, slow.leaseId).decode(HeartbeatReply.self).action == .continue)
            try await expectUpload(client, slow.leaseId, try await partialBytes(for: slow), committed: true)
            await coordinator.runOnce()
            #expect(try await getJob(client, job.id).state == .succeeded)
        }
    }

    @Test func noCopiesWithTheShareAtZeroOrBeforeEnoughIsDone() async throws {
        var off = Self.policy
        off.maxCopyShare = 0
        var late = Self.policy
        late.afterDoneShare = 1
        for policy in [off, late] {
            let fixture = try Fixture(stragglers: policy)
            let coordinator = try fixture.coordinator()
            try await withClient(coordinator) { client in
                _ = try await straggle(fixture, coordinator, client)
                fixture.clock.advance(by: 20)
                #expect(try await lease(client, worker: "C") == nil)
            }
        }
    }

    @Test func theMedianAndTheFloorDecideWhoIsAStraggler() {
        var policy = StragglerPolicy()
        policy.slowerThanMedian = 2
        policy.floorSeconds = 10
        #expect(policy.stragglerSeconds(finished: []) == nil)
        #expect(policy.stragglerSeconds(finished: [1, 2, 100]) == 10)
        #expect(policy.stragglerSeconds(finished: [20, 1, 30]) == 40)
        #expect(policy.stragglerSeconds(finished: [10, 20, 30, 40]) == 50)
        policy.maxCopyShare = 0.1
        #expect(policy.copiesAllowed(tasks: 1) == 1)
        #expect(policy.copiesAllowed(tasks: 25) == 3)
        #expect(policy.copiesAllowed(tasks: 0) == 0)
    }
}
