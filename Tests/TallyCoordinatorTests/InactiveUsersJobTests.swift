import Foundation
import Hummingbird
import HummingbirdTesting
import TallyFormats
import TallyProtocol
import TallyReport
import Testing

@testable import TallyCoordinator

/// An inactive-users job through the API: its request checked, `now` recorded, the user
/// directory read at planning and merged with the look-back's users.
@Suite struct InactiveUsersJobTests {
    func coordinator(_ fixture: Fixture, directory: String, mergeMemoryBytes: Int = 0) throws -> Coordinator {
        var configuration = fixture.configuration
        configuration.userDirectories["staff"] = directory
        configuration.mergeMemoryBytes = mergeMemoryBytes
        configuration.mergeRanges = 3
        return try Coordinator(configuration: configuration, clock: fixture.clock, registry: .init(), metricsFactory: nil)
    }

    @Test func requestsAreCheckedAndNowIsRecorded() async throws {
        let fixture = try Fixture()
        let coordinator = try coordinator(fixture, directory: fixture.root + "/users.csv")
        try await withClient(coordinator) { client in
            for (body, field) in [
                (#"{"report":"inactive-users","source":"local","from":"2026-10-01T00:00:00Z"}"#, "from"),
                (#"{"report":"inactive-users","source":"local","inactive_days":30,"lookback_days":10}"#, "lookback_days"),
                (#"{"report":"inactive-users","source":"local","inactive_days":0}"#, "inactive_days"),
                (#"{"report":"inactive-users","source":"local","now":"yesterday"}"#, "now"),
                (#"{"report":"inactive-users","source":"local","users":"nobody"}"#, "users"),
                (#"{"report":"active-users","source":"local","to":"2026-10-02T00:00:00Z"}"#, "from"),
                (
                    #"{"report":"active-users","source":"local","from":"2026-10-01T00:00:00Z","to":"2026-10-02T00:00:00Z","now":"2026-10-02T00:00:00Z"}"#,
                    "now"
                ),
            ] {
                try expectError(
                    try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body)), .badRequest,
                    field: field)
            }
            let submitted = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(#"{"report":"inactive-users","source":"local"}"#))
            let status = try submitted.decode(JobStatus.self)
            let now = CivilTime.rfc3339(micros: Int64(fixture.clock.now() * 1_000_000))
            #expect(status.now == now && status.inactiveDays == 90 && status.lookbackDays == 365 && status.from == nil)
            #expect(status.windowTo == now)
        }
    }

    /// With the report merged in memory, and streamed from the partials (`merge_memory_bytes: 0`).
    @Test(arguments: [64 << 20, 0])
    func aJobListsTheDirectoryAndTheLookBacksInactiveUsers(mergeMemoryBytes: Int) async throws {
        let fixture = try Fixture()
        let directory = fixture.root + "/users.csv"
        try "email,team\nzoe@example.com,ops\nalice@example.com,dev\ndave@example.com,dev\n".write(
            toFile: directory, atomically: true, encoding: .utf8)
        let coordinator = try coordinator(fixture, directory: directory, mergeMemoryBytes: mergeMemoryBytes)
        try await withClient(coordinator) { client in
            // dave's only connection is at 2026-10-02T00:00:00Z, exactly now − 1 day: active.
            let body =
                #"{"report":"inactive-users","source":"local","now":"2026-10-03T00:00:00Z","inactive_days":1,"lookback_days":5,"users":"staff"}"#
            let job = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body)).decode(
                JobStatus.self)
            await coordinator.runOnce()
            while let grant = try await lease(client, worker: "w1") {
                try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
            }
            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded, "\(done.error ?? "")")
            let csv = try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).text
            #expect(
                csv == """
                    user_email,last_access_date,inactive_days
                    alice@example.com,2026-10-01T10:20:00.000Z,1
                    bob@example.com,2026-10-01T12:00:00.000Z,1
                    carol@example.com,2026-10-01T23:59:59.000Z,1
                    zoe@example.com,,

                    """)
            #expect(done.users == 4)
        }
    }

    /// A resource-access review over a directory, merged in memory and streamed in three
    /// ranges: the same bytes, only the directory's users, and one who reached nothing listed.
    @Test func aResourceAccessReviewListsTheDirectorysUsersMergedEitherWay() async throws {
        var results: [String] = []
        for mergeMemoryBytes in [64 << 20, 0] {
            let fixture = try Fixture()
            let directory = fixture.root + "/users.csv"
            try "email\nzoe@example.com\nalice@example.com\n".write(toFile: directory, atomically: true, encoding: .utf8)
            let coordinator = try coordinator(fixture, directory: directory, mergeMemoryBytes: mergeMemoryBytes)
            let result = try await withClient(coordinator) { client in
                let body =
                    #"{"report":"resource-access","source":"local","from":"2026-10-01T00:00:00Z","to":"2026-10-02T00:00:00Z","users":"staff"}"#
                let job = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body)).decode(
                    JobStatus.self)
                #expect(job.report == "resource-access" && job.userDirectory == "staff")
                await coordinator.runOnce()
                try await workUntilNoTasks(client)
                await coordinator.runOnce()
                let done = try await getJob(client, job.id)
                #expect(done.state == .succeeded, "\(done.error ?? "")")
                return try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).text
            }
            results.append(result)
        }
        #expect(results[0] == results[1])
        let lines = results[0].split(separator: "\n").map(String.init)
        #expect(lines.first == ResourceAccessCSV.columns.joined(separator: ","))
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("alice@example.com,") || $0.hasPrefix("zoe@example.com,") })
        #expect(lines.contains { $0.hasPrefix("alice@example.com,,") && !$0.hasSuffix(",0,0,0,0,0,0") })
        #expect(lines.last == "zoe@example.com,,,,,,0,0,0,0,0,0")
    }

    @Test func aDirectoryWithoutAnEmailColumnFailsTheJobNamingIt() async throws {
        let fixture = try Fixture()
        let directory = fixture.root + "/users.csv"
        try "name,team\nzoe,ops\n".write(toFile: directory, atomically: true, encoding: .utf8)
        let coordinator = try coordinator(fixture, directory: directory)
        try await withClient(coordinator) { client in
            let body = #"{"report":"inactive-users","source":"local","now":"2026-10-03T00:00:00Z","users":"staff"}"#
            let job = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body)).decode(
                JobStatus.self)
            await coordinator.runOnce()
            let failed = try await getJob(client, job.id)
            #expect(failed.state == .failed)
            #expect(failed.error?.contains("users.csv, line 1: no column named email, user_email, user") == true, "\(failed.error ?? "")")
        }
    }
}
