import Foundation
import Hummingbird
import HummingbirdTesting
import TallyFormats
import TallyProtocol
import TallyReport
import TallySketches
import TallyStore
import TallyWeb
import Testing

@testable import TallyCoordinator

/// A worker token in hostile hands: the uploads that used to crash the coordinator (once in a
/// loop across restarts) are refused, nothing a partial claims can trap a sum or a page, a
/// merge that keeps crashing fails its job, and a forged partial never reaches another job
/// through the shard cache (docs/security.md, "A compromised worker").
@Suite struct HostileWorkerTests {
    /// The honest partial for `grant`, then changed as a hostile worker would.
    static func forged(_ grant: LeaseGrant, _ change: (inout ReadStatistics, inout [RowAggregate]) -> Void) async throws -> [UInt8] {
        let honest = try await partial(for: grant)
        var (statistics, users) = (honest.statistics, honest.rows)
        change(&statistics, &users)
        return Partial(rows: users, statistics: statistics).encoded()
    }

    /// Leases the fixture's two tasks, uploads the honest partial of the undated one, and
    /// returns the grant of the hourly one (`2026-10-01T10.csv`).
    static func leaseHourlyTask(_ client: any TestClientProtocol) async throws -> LeaseGrant {
        var hourly: LeaseGrant?
        while let grant = try await lease(client, worker: "w1") {
            if grant.task.engineTask.objects.contains(where: { $0.name.hasPrefix("2026-10-01T10") }) {
                hourly = grant
            } else {
                try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
            }
        }
        return try #require(hourly)
    }

    /// The upload is refused (`422`) naming `field`; the coordinator answers its pages and the
    /// job's status; the attempt counts as failed, so after the retry delay the task goes to
    /// another worker, whose grant is returned.
    @discardableResult
    static func expectRefused(
        _ client: any TestClientProtocol, _ fixture: Fixture, job: String, grant: LeaseGrant, _ bytes: [UInt8],
        naming field: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> LeaseGrant {
        let response = try await upload(client, grant.leaseId, bytes)
        try expectError(response, .unprocessableContent, field: nil, containing: field, sourceLocation: sourceLocation)
        #expect(try await client.execute(uri: "/", method: .get).status == .ok, sourceLocation: sourceLocation)
        let status = try await getJob(client, job, sourceLocation: sourceLocation)
        #expect(status.state == .running && status.progress.tasksDone == 1, sourceLocation: sourceLocation)
        #expect(try await client.execute(uri: "/reports/\(job)", method: .get).status == .ok, sourceLocation: sourceLocation)
        #expect(
            try await lease(client, worker: "w2", sourceLocation: sourceLocation) == nil, "the retry delay first",
            sourceLocation: sourceLocation)
        fixture.clock.advance(by: 60)
        let again = try #require(try await lease(client, worker: "w2", sourceLocation: sourceLocation), sourceLocation: sourceLocation)
        #expect(again.task.index == grant.task.index, sourceLocation: sourceLocation)
        return again
    }

    @Test func aPartialClaimingTwoToTheSixtySecondBytesIsRefusedAndTheCoordinatorServesItsPagesAfterARestart() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let (job, again) = try await withPlannedJob(coordinator) { client, job in
            let grant = try await Self.leaseHourlyTask(client)
            let bytes = try await Self.forged(grant) { statistics, _ in statistics.bytes = 1 << 62 }
            let again = try await Self.expectRefused(
                client, fixture, job: job.id, grant: grant, bytes, naming: "bytes is 4611686018427387904")
            return (job.id, again)
        }
        // A restarted coordinator (the same data directory) serves the list and the report page.
        let restarted = try fixture.coordinator()
        try await withClient(restarted) { client in
            await restarted.runOnce()
            #expect(try await client.execute(uri: "/", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/reports/\(job)", method: .get).status == .ok)
            // The other worker's honest partial completes the job.
            try await expectUpload(client, again.leaseId, try await partialBytes(for: again), committed: true)
            await restarted.runOnce()
            let done = try await getJob(client, job)
            #expect(done.state == .succeeded, "\(done.error ?? "")")
            #expect(try await client.execute(uri: "/v1/jobs/\(job)/result", method: .get).bytes == ExpectedReport.csv)
        }
    }

    @Test func aSecondPartialClaimingTheLargestByteCountIsRefusedAndTotalsSaturate() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            // The undated task's honest partial first, then the hourly one claiming Int64.max bytes.
            let grant = try await Self.leaseHourlyTask(client)
            let bytes = try await Self.forged(grant) { statistics, _ in statistics.bytes = .max }
            try await Self.expectRefused(client, fixture, job: job.id, grant: grant, bytes, naming: "bytes is 9223372036854775807")
        }
        // Whatever reaches the totals saturates instead of trapping.
        var totals = JobTotals()
        var huge = ReadStatistics()
        (huge.objects, huge.bytes, huge.lines.events, huge.lines.lines) = (.max, .max, .max, .max)
        totals.add(huge, sourceRetries: .max)
        totals.add(huge, sourceRetries: .max)
        totals.addReused(huge)
        #expect(totals.bytes == .max && totals.objects == .max && totals.events == .max && totals.sourceRetries == .max)
        #expect(totals.bytesRead == 0)
    }

    @Test func aClientIPSketchWithEveryRegisterAtFortyNineIsRefusedAndTheChartCannotTrap() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            let grant = try await Self.leaseHourlyTask(client)
            let bytes = try await Self.forged(grant) { statistics, users in
                // Register i gets rank 49: the index in the top 14 bits, then 48 zero bits and a one.
                var ips = DistinctCounter()
                for index in 0..<UInt64(1 << 14) { ips.insert(hash: index << 50 | 2) }
                #expect(!ips.isExact && ips.count == 6_653_256_548_922_161_152)
                users[0].clientIPs = ips
                // Enough connections for an approximate sketch, so only its estimate is implausible.
                let extra: UInt64 = 5000
                users[0].counters.success += extra
                statistics.eventsInWindow += Int64(extra)
                statistics.lines.events += Int64(extra)
                statistics.lines.lines += Int64(extra)
            }
            try await Self.expectRefused(
                client, fixture, job: job.id, grant: grant, bytes, naming: "estimate of 6653256548922161152 client IPs")
        }
        // The report page's histogram of such a count (from a CSV written by anything) has a
        // bucket for it instead of trapping.
        let csv = "user_email,num_of_client_ip\na@example.com,6653256548922161152\nb@example.com,9223372036854775807\nc@example.com,3\n"
        let figures = try ReportFigures(csv: Array(csv.utf8), name: "t.csv")
        let buckets = figures.clientIPBuckets
        #expect(buckets.count == 65)
        #expect(buckets.last?.label == "4611686018427387905–9223372036854775808")
        #expect(buckets.map(\.value).reduce(0, +) == 3)
        #expect(ReportFigures.percent(9e300, of: 1) == "92233720368547758.07 %")
    }

    @Test func malformedLinesPastTheLinesAreRefusedAndTheCeilingsMessageCannotTrap() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let body = #"{"report":"active-users","source":"local","from":"\#(windowFrom)","to":"\#(windowTo)","max_malformed_share":0.5}"#
            let job = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body)).decode(
                JobStatus.self)
            await coordinator.runOnce()
            let grant = try await Self.leaseHourlyTask(client)
            let bytes = try await Self.forged(grant) { statistics, _ in
                statistics.lines.lines = 1
                statistics.lines.malformedByReason[0] = .max
            }
            try await Self.expectRefused(client, fixture, job: job.id, grant: grant, bytes, naming: "more than the 1 lines")
        }
        var statistics = ReadStatistics()
        statistics.lines.lines = 1
        statistics.lines.malformedByReason[0] = .max
        let excess = try #require(MalformedCeiling.excess(statistics, ceiling: 0.5))
        #expect(excess.description.hasPrefix("9223372036854775807 of 1 lines are malformed (over 100 %)"), "\(excess)")
    }

    @Test func aMergeThatStoppedTheCoordinatorTwiceFailsItsJobInsteadOfRunningAgain() async throws {
        for crashes in [1, 2] {
            let fixture = try Fixture()
            let coordinator = try fixture.coordinator()
            try await withPlannedJob(coordinator) { client, job in
                try await workUntilNoTasks(client)
                #expect(try await coordinator.store.job(job.id)?.state == .merging, "the last commit moved the job to merging")
                // Merges begun and never ended: the process died during them.
                for _ in 0..<crashes { #expect(try await coordinator.store.beginMerge(job.id) != nil) }
                await coordinator.runOnce()
                let status = try await getJob(client, job.id)
                if crashes < MergePipeline.maximumCrashedMerges {
                    #expect(status.state == .succeeded, "\(status.error ?? "")")
                } else {
                    #expect(status.state == .failed)
                    #expect(status.error == "the merge stopped the coordinator 2 times; the job's partials cannot be merged safely")
                    #expect(try await client.execute(uri: "/", method: .get).status == .ok)
                }
            }
        }
    }

    /// A worker can falsify the tasks it leases; the cache must not turn that into falsifying
    /// every later report. Reporter A's job runs with an untrusted worker that renames a user in
    /// its partial (every count still consistent, so the upload checks pass); reporter B's job
    /// over the same day is computed afresh. With a trusted worker, B reuses A's shards.
    @Test(arguments: [false, true])
    func aForgedShardNeverReachesAnotherUsersReport(trusted: Bool) async throws {
        let logs = try ShardCacheTests.Logs()
        let coordinator = try logs.coordinator("data")
        func secret(_ user: String, _ role: Role, trusted: Bool? = nil) async throws -> String {
            try #require(try await coordinator.createToken(TokenRequest(user: user, role: role, trusted: trusted)).secret)
        }
        let (alice, bob) = (try await secret("alice", .reporter), try await secret("bob", .reporter))
        let worker = try await secret("w", .worker, trusted: trusted ? true : nil)
        let body = jobRequest(from: "2026-09-18T00:00:00Z", to: "2026-09-19T00:00:00Z")
        try await withClient(coordinator) { client in
            func run(_ reporter: String, forging: Bool) async throws -> (status: JobStatus, csv: String) {
                let job = try await client.execute(
                    uri: "/v1/jobs", method: .post, headers: AuthenticationTests.headers(reporter), body: body
                )
                .decode(JobStatus.self)
                await coordinator.runOnce()
                while true {
                    let response = try await client.execute(
                        uri: "/v1/worker/lease", method: .post, headers: AuthenticationTests.headers(worker),
                        body: leaseRequest("w1"))
                    if response.status == .noContent { break }
                    let grant = try response.decode(LeaseGrant.self)
                    let bytes = try await Self.forged(grant) { _, users in
                        if forging, let i = users.indices.first { users[i].key = Array("poison@evil.example".utf8) }
                    }
                    let reply = try await client.execute(
                        uri: "/v1/worker/leases/\(grant.leaseId)/partial", method: .put,
                        headers: AuthenticationTests.headers(worker, contentType: "application/octet-stream"),
                        body: ByteBuffer(bytes: bytes))
                    #expect(try reply.decode(UploadReply.self).committed, "\(reply.text)")
                }
                await coordinator.runOnce()
                let status = try await client.execute(
                    uri: "/v1/jobs/\(job.id)", method: .get, headers: AuthenticationTests.headers(reporter)
                )
                .decode(JobStatus.self)
                #expect(status.state == .succeeded, "\(status.error ?? "")")
                return (
                    status,
                    try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get, headers: AuthenticationTests.headers(reporter))
                        .text
                )
            }
            let (_, forgedCSV) = try await run(alice, forging: !trusted)
            let (second, csv) = try await run(bob, forging: false)
            #expect(!csv.contains("poison"))
            let cold = try await ShardCacheTests().run(
                try logs.coordinator("cold"), from: "2026-09-18T00:00:00Z", to: "2026-09-19T00:00:00Z"
            ).csv
            #expect(csv == cold)
            if trusted {
                #expect(second.statistics.shardsReused == 1)
                #expect(forgedCSV == cold)
            } else {
                #expect(forgedCSV.contains("poison@evil.example"))
                #expect(second.statistics.shardsReused == 0)
            }
        }
    }

    /// A partial whose statistics fit its task but whose user claims more connections than the
    /// events read is refused (422) user by user, from a trusted worker too: range reads and the
    /// shard cache rely on what the check holds (docs/security.md).
    @Test(arguments: [false, true])
    func aPartialWithAnImplausibleUserIsRefusedWhateverTheTokensTrust(trusted: Bool) async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let admin = try #require(try await coordinator.createToken(TokenRequest(user: "root", role: .admin)).secret)
        let worker = try #require(
            try await coordinator.createToken(TokenRequest(user: "w", role: .worker, trusted: trusted ? true : nil)).secret)
        try await withClient(coordinator) { client in
            let created = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: AuthenticationTests.headers(admin), body: jobRequest())
            #expect(created.status == .accepted, "\(created.text)")
            await coordinator.runOnce()
            let response = try await client.execute(
                uri: "/v1/worker/lease", method: .post, headers: AuthenticationTests.headers(worker), body: leaseRequest("w1"))
            let grant = try response.decode(LeaseGrant.self)
            let bytes = try await Self.forged(grant) { _, users in
                if let i = users.indices.first { users[i].counters.success += 1_000 }
            }
            let reply = try await client.execute(
                uri: "/v1/worker/leases/\(grant.leaseId)/partial", method: .put,
                headers: AuthenticationTests.headers(worker, contentType: "application/octet-stream"), body: ByteBuffer(bytes: bytes))
            try expectError(reply, .unprocessableContent, field: nil, containing: "connections")
        }
    }

    @Test func onlyWorkerTokensCanBeTrustedAndTheListSaysWhich() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            try expectError(
                try await client.execute(
                    uri: "/v1/tokens", method: .post, headers: AuthenticationTests.headers(s.admin),
                    body: json(#"{"user":"x","role":"reporter","trusted":true}"#)),
                .badRequest, field: "trusted")
            let made = try await client.execute(
                uri: "/v1/tokens", method: .post, headers: AuthenticationTests.headers(s.admin),
                body: json(#"{"user":"builder","role":"worker","trusted":true}"#)
            ).decode(TokenInfo.self)
            #expect(made.trusted == true)
            let list = try await client.execute(uri: "/v1/tokens", method: .get, headers: AuthenticationTests.headers(s.admin)).decode(
                TokenList.self)
            #expect(list.tokens.first { $0.id == made.id }?.trusted == true)
            #expect(list.tokens.first { $0.user == "w-one" }?.trusted == false)
            #expect(list.tokens.first { $0.user == "ada" }?.trusted == nil)
        }
    }
}
