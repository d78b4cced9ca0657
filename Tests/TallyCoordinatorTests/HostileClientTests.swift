import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TallyProtocol
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
            #expect(try await client.execute(uri: "/v1/jobs/\(first.id)", method: .delete, headers: AuthenticationTests.headers(s.reporter)).status == .ok)
            #expect(try await submit(s.reporter).status == .accepted)
        }
    }

    @Test func workerNamesAndFailureReasonsCannotForgeLines() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let job = try await submit(client)
            await coordinator.runOnce()
            try expectError(try await client.execute(uri: "/v1/worker/lease", method: .post, body: leaseRequest("w1\\nERROR")),
                            .badRequest, field: "worker")
            let grant = try #require(try await lease(client, worker: "w1"))
            let failed = try await client.execute(uri: "/v1/worker/leases/\(grant.leaseId)/failure", method: .post,
                                                  body: json(#"{"reason":"bad\n2026-12-02 error tally: forged\u001b[31m","permanent":true}"#))
            #expect(failed.status == .noContent)
            let error = try #require(try await getJob(client, job.id).error)
            #expect(!error.contains("\n") && !error.contains("\u{1B}"), "\(error)")
            #expect(error.contains(#"bad\n2026-12-02 error tally: forged\u{1B}[31m"#), "\(error)")
        }
    }

    @Test func controlCharactersAreWrittenOut() {
        #expect("plain text".escapingControlCharacters == "plain text")
        #expect("a\nb\tc\r\u{1B}[0m\u{7F}é".escapingControlCharacters == #"a\nb\tc\r\u{1B}[0m\u{7F}é"#)
    }
}
