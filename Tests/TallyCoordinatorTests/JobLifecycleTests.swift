import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import TallyReport
import Testing

@testable import TallyCoordinator

/// A job from submission to download, as a user and a worker see it.
@Suite struct JobLifecycleTests {
    @Test func happyPathFromSubmitToDownload() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        #expect(ExpectedReport.tasks == 2)
        #expect(ExpectedReport.users == 3)

        try await withClient(coordinator) { client in
            // Submit.
            let submitted = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: jobRequest())
            #expect(submitted.status == .accepted)
            #expect(submitted.headers[.contentType] == "application/json")
            let queued = try submitted.decode(JobStatus.self)
            #expect(queued.state == .queued)
            #expect(!queued.id.isEmpty)
            #expect(queued.report == "active-users" && queued.source == "local")
            #expect(queued.windowFrom == windowFrom && queued.windowTo == windowTo)
            #expect(queued.startedAt == nil && queued.finishedAt == nil)
            #expect(try await getJob(client, queued.id) == queued)

            // Plan.
            await coordinator.runOnce()
            let running = try await getJob(client, queued.id)
            #expect(running.state == .running)
            #expect(running.progress.tasksTotal == ExpectedReport.tasks)
            #expect(running.progress.tasksDone == 0)
            #expect(running.progress.objectsTotal == 2)
            #expect(running.startedAt != nil)

            // First task: lease, heartbeat, upload, repeat upload.
            let grant = try #require(try await lease(client, worker: "w1"))
            #expect(grant.jobId == queued.id)
            #expect(grant.leaseSeconds == fixture.leaseSeconds)
            #expect(grant.heartbeatSeconds > 0 && grant.heartbeatSeconds < grant.leaseSeconds)
            #expect(try grant.source.configuredSource() == fixture.source)
            #expect(try grant.window.engineWindow() == (try ReportWindow(from: windowFrom, to: windowTo, timeZone: nil)))
            #expect(grant.task.index == 0)

            let beat = try await heartbeat(client, grant.leaseId)
            #expect(beat.status == .ok)
            let reply = try beat.decode(HeartbeatReply.self)
            #expect(reply.action == .continue)
            #expect(reply.leaseSeconds == fixture.leaseSeconds)
            #expect(beat.text.contains(#""action":"continue""#))

            let first = try await partial(for: grant)
            let upload1 = try await upload(client, grant.leaseId, first.encoded())
            #expect(upload1.status == .ok)
            #expect(try upload1.decode(UploadReply.self).committed)
            #expect(upload1.text.contains(#""committed":true"#))
            let again = try await upload(client, grant.leaseId, first.encoded())
            #expect(again.status == .ok)
            #expect(try again.decode(UploadReply.self).committed == false)

            let halfway = try await getJob(client, queued.id)
            #expect(halfway.progress.tasksDone == 1)
            #expect(halfway.progress.events == first.statistics.lines.events)
            #expect(halfway.state == .running)

            // Second task, then no more work.
            let grant2 = try #require(try await lease(client, worker: "w2"))
            #expect(grant2.task.index == 1)
            #expect(grant2.leaseId != grant.leaseId)
            try await expectUpload(client, grant2.leaseId, try await partialBytes(for: grant2), committed: true)
            #expect(try await lease(client, worker: "w1") == nil)

            // Merge.
            await coordinator.runOnce()
            let done = try await getJob(client, queued.id)
            #expect(done.state == .succeeded)
            #expect(done.error == nil)
            #expect(done.users == ExpectedReport.users)
            #expect(done.resultBytes == Int64(ExpectedReport.csv.count))
            #expect(done.progress.tasksDone == ExpectedReport.tasks)
            #expect(done.finishedAt != nil)
            // The merge phase is reported: it starts at the last commit, within the job's run.
            // (RFC 3339 UTC with the same number of digits sorts as text.)
            let lastPartial = try #require(done.lastPartialAt)
            #expect(queued.createdAt <= lastPartial && lastPartial <= done.finishedAt!)
            #expect(try #require(done.startedAt) <= lastPartial)
            #expect(done.statistics == ExpectedReport.statistics)
            #expect(done.statistics.events == 7)
            #expect(done.statistics.eventsInWindow == 6)
            #expect(done.statistics.serviceAccountRows == 1)
            #expect(done.statistics.malformedTotal == 1)

            // Download, plain.
            let result = try await client.execute(uri: "/v1/jobs/\(queued.id)/result", method: .get)
            #expect(result.status == .ok)
            #expect(result.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(
                result.headers[.contentDisposition] == #"attachment; filename="tally-active-users-20261001T000000Z-20261002T000000Z.csv""#)
            #expect(result.headers[.contentEncoding] == nil)
            #expect(result.bytes == ExpectedReport.csv)
            let lines = result.text.split(separator: "\n")
            #expect(lines.count == 1 + ExpectedReport.users)
            #expect(
                lines.dropFirst().map { $0.split(separator: ",").first.map(String.init) ?? "" }
                    == ["alice@example.com", "bob@example.com", "carol@example.com"])

            // Download, gzip.
            var headers = HTTPFields()
            headers[.acceptEncoding] = "gzip, deflate"
            let zipped = try await client.execute(uri: "/v1/jobs/\(queued.id)/result", method: .get, headers: headers)
            #expect(zipped.status == .ok)
            #expect(zipped.headers[.contentEncoding] == "gzip")
            #expect(zipped.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(Array(zipped.bytes.prefix(2)) == [0x1f, 0x8b])
            #expect(try gunzip(zipped.bytes) == ExpectedReport.csv)
        }
    }

    @Test func listingIsNewestFirstAndPages() async throws {
        let fixture = try Fixture()
        try await withClient(try fixture.coordinator()) { client in
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try await submit(client).id) }

            let all = try await client.execute(uri: "/v1/jobs", method: .get).decode(JobList.self)
            #expect(all.jobs.map(\.id) == ids.reversed())
            #expect(all.next == nil)

            let first = try await client.execute(uri: "/v1/jobs?limit=2", method: .get)
            #expect(first.status == .ok)
            let page1 = try first.decode(JobList.self)
            #expect(page1.jobs.map(\.id) == [ids[2], ids[1]])
            let next = try #require(page1.next)

            let page2 = try await client.execute(uri: "/v1/jobs?limit=2&before=\(next)", method: .get).decode(JobList.self)
            #expect(page2.jobs.map(\.id) == [ids[0]])
            #expect(page2.next == nil)
        }
    }

    @Test func cancellingARunningJobStopsItsWorkers() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            let grant = try #require(try await lease(client, worker: "w1"))
            let bytes = try await partialBytes(for: grant)

            let cancelled = try await client.execute(uri: "/v1/jobs/\(job.id)", method: .delete)
            #expect(cancelled.status == .ok)
            let status = try cancelled.decode(JobStatus.self)
            #expect(status.state == .cancelled)
            #expect(status.finishedAt != nil)

            // The worker holding a lease is told to stop, and its upload is acknowledged, not committed.
            let beat = try await heartbeat(client, grant.leaseId)
            #expect(beat.status == .ok, "body: \(beat.text)")
            if beat.status == .ok {
                #expect(try beat.decode(HeartbeatReply.self).action == .stop)
            }
            try await expectUpload(client, grant.leaseId, bytes, committed: false)

            // No more work, no result, and the scheduler leaves it alone.
            #expect(try await lease(client, worker: "w2") == nil)
            await coordinator.runOnce()
            let after = try await getJob(client, job.id)
            #expect(after.state == .cancelled)
            #expect(after.progress.tasksDone == 0)
            try expectError(
                try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get), .conflict, field: "id", containing: "cancelled")
        }
    }

    @Test func aRestartedCoordinatorKeepsJobsAndCommittedTasks() async throws {
        let fixture = try Fixture()
        let jobId: String
        let secondGrant: LeaseGrant
        do {
            let coordinator = try fixture.coordinator()
            (jobId, secondGrant) = try await withPlannedJob(coordinator) { client, job in
                let grant = try #require(try await lease(client, worker: "w1"))
                try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
                // A second task is leased when the coordinator goes down.
                let second = try #require(try await lease(client, worker: "w2"))
                return (job.id, second)
            }
        }

        let restarted = try fixture.coordinator()
        try await withClient(restarted) { client in
            let job = try await getJob(client, jobId)
            #expect(job.state == .running)
            #expect(job.progress.tasksTotal == ExpectedReport.tasks)
            #expect(job.progress.tasksDone == 1)

            // The lease survives the restart: the worker that held it carries on.
            let beat = try await heartbeat(client, secondGrant.leaseId)
            #expect(beat.status == .ok)
            #expect(try beat.decode(HeartbeatReply.self).action == .continue)
            try await expectUpload(client, secondGrant.leaseId, try await partialBytes(for: secondGrant), committed: true)

            await restarted.runOnce()
            let done = try await getJob(client, jobId)
            #expect(done.state == .succeeded)
            #expect(done.users == ExpectedReport.users)
            let result = try await client.execute(uri: "/v1/jobs/\(jobId)/result", method: .get)
            #expect(result.status == .ok)
            #expect(result.bytes == ExpectedReport.csv)
        }
    }

    @Test func aJobQueuedBeforeARestartIsPlannedAfterIt() async throws {
        let fixture = try Fixture()
        let jobId = try await withClient(try fixture.coordinator()) { client in try await submit(client).id }

        let restarted = try fixture.coordinator()
        try await withClient(restarted) { client in
            #expect(try await getJob(client, jobId).state == .queued)
            await restarted.runOnce()
            try await workUntilNoTasks(client)
            await restarted.runOnce()
            #expect(try await getJob(client, jobId).state == .succeeded)
            #expect(try await client.execute(uri: "/v1/jobs/\(jobId)/result", method: .get).bytes == ExpectedReport.csv)
        }
    }
}

/// A committed partial lost or damaged on disk is computed again; the job still gives the exact
/// report, and fails only when partials keep being lost.
@Suite struct LostPartialTests {
    @Test func aPartialEmptiedAfterItsCommitIsComputedAgain() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            try await workUntilNoTasks(client)
            // As after a power loss on a disk that dropped the file's contents.
            let path = coordinator.files.partialPath(job.id, 1)
            try Data().write(to: URL(fileURLWithPath: path))
            await coordinator.runOnce()
            let back = try await getJob(client, job.id)
            #expect(back.state == .running)
            #expect(back.progress.tasksDone == ExpectedReport.tasks - 1)
            let grant = try #require(try await lease(client, worker: "w2"))
            #expect(grant.task.index == 1)
            try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded)
            #expect(done.statistics == ExpectedReport.statistics)
            #expect(try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).bytes == ExpectedReport.csv)
        }
    }

    @Test func aJobThatKeepsLosingPartialsFails() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            for _ in 0..<MergePipeline.maximumPartialLosses {
                try await workUntilNoTasks(client)
                try FileManager.default.removeItem(atPath: coordinator.files.partialPath(job.id, 0))
                await coordinator.runOnce()
            }
            let failed = try await getJob(client, job.id)
            #expect(failed.state == .failed)
            #expect(failed.error?.contains("task 0") == true, "\(failed.error ?? "-")")
        }
    }
}
