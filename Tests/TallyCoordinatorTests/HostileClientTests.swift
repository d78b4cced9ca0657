import Foundation
import Hummingbird
import HummingbirdTesting
import TallyFormats
import TallyProtocol
import TallyReport
import Testing

@testable import TallyCoordinator

/// Clients that are broken or hostile cannot flood the coordinator with jobs nor forge log lines.
@Suite struct HostileClientTests {
    @Test func aUserPastTheActiveJobLimitGets429() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.maxActiveJobsPerUser = 2
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock)
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            func submit(_ secret: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/jobs", method: .post, headers: AuthenticationTests.headers(secret), body: jobRequest())
            }
            let first = try await submit(s.reporter).decode(JobStatus.self)
            #expect(try await submit(s.reporter).status == .accepted)
            try expectError(try await submit(s.reporter), .tooManyRequests, field: nil, containing: "max_active_jobs_per_user")
            // Another user is not held back; an ended job frees a place.
            #expect(try await submit(s.otherReporter).status == .accepted)
            #expect(
                try await client.execute(uri: "/v1/jobs/\(first.id)", method: .delete, headers: AuthenticationTests.headers(s.reporter))
                    .status == .ok)
            #expect(try await submit(s.reporter).status == .accepted)
        }
    }

    @Test func workerNamesAndFailureReasonsCannotForgeLines() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            try expectError(
                try await client.execute(uri: "/v1/worker/lease", method: .post, headers: jsonHeaders, body: leaseRequest("w1\\nERROR")),
                .badRequest, field: "worker")
            let grant = try #require(try await lease(client, worker: "w1"))
            let failed = try await client.execute(
                uri: "/v1/worker/leases/\(grant.leaseId)/failure", method: .post,
                headers: jsonHeaders, body: json(#"{"reason":"bad\n2026-12-02 error tally: forged\u001b[31m\u0000","permanent":true}"#))
            // (A NUL too, which PostgreSQL's text could not even hold: stored written out, on either store.)
            #expect(failed.status == .noContent)
            let error = try #require(try await getJob(client, job.id).error)
            #expect(!error.contains("\n") && !error.contains("\u{1B}") && !error.contains("\u{0}"), "\(error)")
            #expect(error.contains(#"bad\n2026-12-02 error tally: forged\u{1B}[31m"#), "\(error)")
        }
    }

    @Test func controlCharactersAreWrittenOut() {
        #expect("plain text".escapingControlCharacters == "plain text")
        #expect("a\nb\tc\r\u{1B}[0m\u{7F}é".escapingControlCharacters == #"a\nb\tc\r\u{1B}[0m\u{7F}é"#)
    }

    @Test func uploadsPastTheSizeLimitOrTheConcurrencyCapAreRefusedAndAGoodOneStillCommits() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.maximumPartialBytes = 4096
        configuration.maximumConcurrentUploads = 1
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock, registry: .init(), metricsFactory: nil)
        try await withPlannedJob(coordinator) { client, _ in
            let grant = try #require(try await lease(client, worker: "w1"))
            let good = try await partialBytes(for: grant)
            #expect(good.count <= 4096)
            try expectError(
                try await upload(client, grant.leaseId, [UInt8](repeating: 7, count: 4097)), .contentTooLarge, field: nil,
                containing: "max_partial_bytes")
            // Every slot taken: a 503 that says when to come back.
            #expect(coordinator.uploadSlots.take())
            let busy = try await upload(client, grant.leaseId, good)
            try expectError(busy, .serviceUnavailable, field: nil, containing: "uploads are already being received")
            #expect(busy.headers[.retryAfter] == "1")
            coordinator.uploadSlots.giveBack()
            // Nothing of the refused uploads was kept; the good one commits.
            let uploads = try FileManager.default.subpathsOfDirectory(atPath: fixture.dataDirectory).filter { $0.contains("upload-") }
            #expect(uploads.isEmpty, "\(uploads)")
            try await expectUpload(client, grant.leaseId, good, committed: true)
        }
    }

    @Test func aPartialThatDecodesPastTheMemoryCeilingIsRefused() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.maximumPartialMemoryBytes = 1 << 20
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock, registry: .init(), metricsFactory: nil)
        try await withPlannedJob(coordinator) { client, _ in
            let grant = try #require(try await lease(client, worker: "w1"))
            // A well-formed partial of 5,000 users: a few hundred KB that decode past 1 MiB.
            let real = try await partial(for: grant)
            let big = Partial(
                rows: (0..<5000).map { i in
                    var user = real.rows[0]
                    user.key = Array("user\(100_000 + i)@example.com".utf8)
                    return user
                }, statistics: real.statistics)
            try expectError(try await upload(client, grant.leaseId, big.encoded()), .badRequest, field: nil, containing: "ceiling")
            try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
        }
    }

    @Test func workerSeriesExpireAnHourAfterTheWorkerWasLastSeen() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            #expect(try await lease(client, worker: "gone-1") == nil)
            fixture.clock.advance(by: 1800)
            #expect(try await lease(client, worker: "here-2") == nil)
            var metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metrics.contains(#"worker="gone-1""#) && metrics.contains(#"worker="here-2""#))
            fixture.clock.advance(by: 1801)
            metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(!metrics.contains(#"worker="gone-1""#), "\(metrics)")
            #expect(metrics.contains(#"worker="here-2""#))
        }
    }

    @Test func idsAreLookedUpNeverUsedAsPathsAndJobsNameSourcesNeverURLs() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            for id in ["..%2F..%2Ftally.sqlite", "%2e%2e", "..", "\(job.id)%2F..%2F..%2Ftally.sqlite", "%00"] {
                for uri in ["/v1/jobs/\(id)", "/v1/jobs/\(id)/result"] {
                    let response = try await client.execute(uri: uri, method: .get)
                    #expect(response.status == .notFound || response.status == .badRequest, "\(uri): \(response.status) \(response.text)")
                    #expect(!response.text.contains("SQLite"), "\(uri)")
                }
                let upload = try await upload(client, id, [1, 2, 3])
                #expect(upload.status == .conflict, "\(id): \(upload.status) \(upload.text)")
            }
            // Nothing was written outside the job folders.
            let written = try FileManager.default.subpathsOfDirectory(atPath: fixture.dataDirectory)
            #expect(
                written.allSatisfy {
                    $0.hasPrefix("jobs") || $0.hasPrefix("tally.sqlite") || $0.hasPrefix("activity.sqlite") || $0 == "jobs"
                },
                "\(written)")
            // A job names a configured source; a URL in its place, or in a field of its own, is refused.
            for body in [
                #"{"report":"active-users","source":"http://169.254.169.254/latest/","from":"2026-10-01T00:00:00Z","to":"2026-10-02T00:00:00Z"}"#,
                #"{"report":"active-users","source":"local","url":"http://evil.example/","from":"2026-10-01T00:00:00Z","to":"2026-10-02T00:00:00Z"}"#,
            ] {
                let response = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body))
                #expect(response.status == .badRequest, "\(response.text)")
            }
        }
    }
}
