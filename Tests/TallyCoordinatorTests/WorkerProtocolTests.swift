import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import TallyReport
import TallySources
import Testing

@testable import TallyCoordinator

/// The worker protocol's guarantees: expired leases move on, only one attempt commits,
/// failures are bounded, and bad uploads are refused without losing the lease.
@Suite struct WorkerProtocolTests {
    @Test func anExpiredLeaseGoesToAnotherWorkerAndTheLateUploadIsIgnored() async throws {
        let fixture = try Fixture(leaseSeconds: 1)
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            let a = try #require(try await lease(client, worker: "A"))
            #expect(a.leaseSeconds == 1)
            let aBytes = try await partialBytes(for: a)

            fixture.clock.advance(by: 1.2)
            await coordinator.runOnce()

            // A's lease is gone: heartbeats get 410.
            try expectError(try await heartbeat(client, a.leaseId), .gone, field: "lease")

            let b = try #require(try await lease(client, worker: "B"))
            #expect(b.task.index == a.task.index)
            #expect(b.task == a.task)
            #expect(b.leaseId != a.leaseId)

            // A comes back late: refused. B commits.
            try expectError(try await upload(client, a.leaseId, aBytes), .conflict, field: "lease")
            try await expectUpload(client, b.leaseId, try await partialBytes(for: b), committed: true)
            // A's second try is still refused.
            try expectError(try await upload(client, a.leaseId, aBytes), .conflict, field: "lease")

            try await workUntilNoTasks(client, worker: "B")
            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded)
            #expect(done.statistics == ExpectedReport.statistics)
            let result = try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get)
            #expect(result.bytes == ExpectedReport.csv)

            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metric(metrics, "tally_lease_expiries_total") == 1, "\(metrics)")
        }

        // The same bytes as a run on a coordinator where nothing expired.
        let clean = try Fixture()
        let other = try clean.coordinator()
        let cleanCSV = try await withPlannedJob(other) { client, job in
            try await workUntilNoTasks(client)
            await other.runOnce()
            return try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).bytes
        }
        #expect(cleanCSV == ExpectedReport.csv)
    }

    @Test func aHeartbeatKeepsALeaseAlive() async throws {
        let fixture = try Fixture(leaseSeconds: 1)
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, _ in
            let grant = try #require(try await lease(client, worker: "w1"))
            for _ in 0..<3 {
                fixture.clock.advance(by: 0.5)
                let beat = try await heartbeat(client, grant.leaseId)
                #expect(try beat.decode(HeartbeatReply.self).action == .continue)
                await coordinator.runOnce()
            }
            try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
        }
    }

    @Test func aFailedTaskWaitsAGrowingDelayBeforeItIsLeasedAgain() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        #expect(coordinator.configuration.taskRetryDelaySeconds == 1)
        try await withPlannedJob(coordinator) { client, _ in
            func fail(_ grant: LeaseGrant) async throws {
                let response = try await client.execute(
                    uri: "/v1/worker/leases/\(grant.leaseId)/failure", method: .post,
                    headers: jsonHeaders, body: json(#"{"reason":"HTTP 503"}"#))
                #expect(response.status == .noContent)
            }
            let first = try #require(try await lease(client, worker: "w1"))
            #expect(first.task.index == 0)
            try await fail(first)
            // Held back for 1 s: the other task is leased meanwhile, then nothing.
            let other = try #require(try await lease(client, worker: "w2"))
            #expect(other.task.index == 1)
            #expect(try await lease(client, worker: "w3") == nil)
            fixture.clock.advance(by: 1.1)
            let second = try #require(try await lease(client, worker: "w4"))
            #expect(second.task.index == 0)
            try await fail(second)
            // The second failure doubles the delay.
            fixture.clock.advance(by: 1.1)
            #expect(try await lease(client, worker: "w5") == nil)
            fixture.clock.advance(by: 1)
            #expect(try await lease(client, worker: "w6")?.task.index == 0)
        }
    }

    @Test func aPermanentFailureFailsTheJobAtOnce() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            let grant = try #require(try await lease(client, worker: "w1"))
            let response = try await client.execute(
                uri: "/v1/worker/leases/\(grant.leaseId)/failure", method: .post,
                headers: jsonHeaders, body: json(#"{"reason":"logs/a.csv: HTTP 403 Forbidden","permanent":true}"#))
            #expect(response.status == .noContent)
            let failed = try await getJob(client, job.id)
            #expect(failed.state == .failed)
            #expect(failed.error?.contains("logs/a.csv: HTTP 403 Forbidden") == true, "\(failed.error ?? "-")")
        }
    }

    @Test func retriesReportedWithPartialsAreCountedInStatisticsAndMetrics() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            let grant = try #require(try await lease(client, worker: "w1"))
            #expect(grant.retry == WireRetryPolicy(SourceRetryPolicy()))
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            headers.append(.init(name: .init("Tally-Source-Retries")!, value: "3"))
            let response = try await client.execute(
                uri: "/v1/worker/leases/\(grant.leaseId)/partial", method: .put, headers: headers,
                body: ByteBuffer(bytes: try await partialBytes(for: grant)))
            #expect(response.status == .ok)
            #expect(try await getJob(client, job.id).statistics.sourceRetries == 3)
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metric(metrics, "tally_source_retries_total") == 3, "\(metrics)")
        }
    }

    @Test func repeatedFailuresFailTheJobWithTheReason() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        #expect(coordinator.configuration.maxAttempts == 3)
        try await withPlannedJob(coordinator) { client, job in
            for attempt in 1...3 {
                let grant = try #require(try await lease(client, worker: "w\(attempt)"))
                #expect(grant.task.index == 0)
                let response = try await client.execute(
                    uri: "/v1/worker/leases/\(grant.leaseId)/failure", method: .post,
                    headers: jsonHeaders, body: json(#"{"reason":"source answered 503 (attempt \#(attempt))"}"#))
                #expect(response.status == .noContent || response.status == .ok)
                let status = try await getJob(client, job.id)
                #expect(status.state == (attempt < 3 ? .running : .failed))
                fixture.clock.advance(by: 60)  // past the failed task's retry delay
            }
            let failed = try await getJob(client, job.id)
            #expect(failed.state == .failed)
            let error = try #require(failed.error)
            #expect(error.contains("source answered 503 (attempt 3)"), "\(error)")
            #expect(failed.finishedAt != nil)
            #expect(try await lease(client, worker: "w4") == nil)
            try expectError(
                try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get), .conflict, field: "id", containing: "503")
            await coordinator.runOnce()
            #expect(try await getJob(client, job.id).state == .failed)
        }
    }

    @Test func aFailureReportWithoutAReasonIs400() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, _ in
            let grant = try #require(try await lease(client, worker: "w1"))
            try expectError(
                try await client.execute(
                    uri: "/v1/worker/leases/\(grant.leaseId)/failure", method: .post, headers: jsonHeaders, body: json("{}")),
                .badRequest, field: "reason")
            // The lease is untouched.
            #expect(try await heartbeat(client, grant.leaseId).decode(HeartbeatReply.self).action == .continue)
        }
    }

    @Test func unknownLeasesAreGone() async throws {
        let fixture = try Fixture()
        try await withClient(try fixture.coordinator()) { client in
            try expectError(try await heartbeat(client, "nosuchlease"), .gone, field: "lease")
            try expectError(
                try await upload(client, "nosuchlease", Partial(rows: [], statistics: ReadStatistics()).encoded()),
                .conflict, field: "lease")
        }
    }

    @Test func aCorruptPartialIsRefusedAndTheTaskStaysLeased() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            let grant = try #require(try await lease(client, worker: "w1"))
            let good = try await partialBytes(for: grant)
            var corrupt = good
            corrupt[corrupt.count / 2] ^= 0x40

            try expectError(try await upload(client, grant.leaseId, corrupt), .badRequest, field: nil, containing: "partial")
            try expectError(try await upload(client, grant.leaseId, Array(good.prefix(good.count - 3))), .badRequest, field: nil)
            try expectError(try await upload(client, grant.leaseId, []), .badRequest, field: nil)

            let task = try #require(try await coordinator.store.leasedTask(grant.leaseId))
            #expect(task.state == .leased)
            #expect(try await getJob(client, job.id).progress.tasksDone == 0)
            #expect(try await heartbeat(client, grant.leaseId).decode(HeartbeatReply.self).action == .continue)

            try await expectUpload(client, grant.leaseId, good, committed: true)
            #expect(try await getJob(client, job.id).progress.tasksDone == 1)
        }
    }

    @Test func anUnsupportedProtocolVersionIs400() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, _ in
            try expectError(
                try await client.execute(
                    uri: "/v1/worker/lease", method: .post, headers: jsonHeaders, body: leaseRequest("w1", version: 99)),
                .badRequest, field: "protocol_version", containing: "99")
            // A version 1 worker would upload partials without a row key: refused, saying why.
            try expectError(
                try await client.execute(
                    uri: "/v1/worker/lease", method: .post, headers: jsonHeaders, body: leaseRequest("w1", version: 1)),
                .badRequest, field: "protocol_version", containing: "worker protocol 1 is not supported (this coordinator speaks 2)")
            try expectError(
                try await client.execute(uri: "/v1/worker/lease", method: .post, headers: jsonHeaders, body: json(#"{"worker":"w1"}"#)),
                .badRequest, field: "protocol_version")
            // The refused worker took nothing: the first task is still there.
            let grant = try #require(try await lease(client, worker: "w1"))
            #expect(grant.task.index == 0)
        }
    }

    @Test func noWorkIs204() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let response = try await client.execute(uri: "/v1/worker/lease", method: .post, headers: jsonHeaders, body: leaseRequest("w1"))
            #expect(response.status == .noContent)
            // A queued job that is not planned yet has no tasks either.
            _ = try await submit(client)
            #expect(
                try await client.execute(uri: "/v1/worker/lease", method: .post, headers: jsonHeaders, body: leaseRequest("w1")).status
                    == .noContent)
        }
    }
}
