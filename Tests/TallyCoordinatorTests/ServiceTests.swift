import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// `/healthz` and `/metrics`, which load balancers and Prometheus poll.
@Suite struct ServiceTests {
    @Test func healthz() async throws {
        let fixture = try Fixture()
        try await withClient(try fixture.coordinator()) { client in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            #expect(response.text == "ok\n")
        }
    }

    @Test func metricsExposeJobsTasksAndCounters() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            _ = try await submit(client)
            _ = try await submit(client)
            await coordinator.runOnce()
            let grant = try #require(try await lease(client, worker: "w1"))
            try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)

            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = response.text
            #expect(text.contains("tally_jobs"))
            #expect(text.contains("tally_lease_expiries_total"))
            #expect(metric(text, #"tally_jobs{state="running"}"#) == 2, "\(text)")
            #expect(metric(text, #"tally_jobs{state="failed"}"#) == 0, "\(text)")
            #expect(metric(text, #"tally_tasks{state="done"}"#) == 1, "\(text)")
            #expect(metric(text, #"tally_tasks{state="pending"}"#) == 3, "\(text)")
            #expect(metric(text, "tally_partials_committed_total") == 1, "\(text)")
            #expect(metric(text, "tally_lease_expiries_total") == 0, "\(text)")
            #expect(text.contains(#"worker="w1""#), "\(text)")
        }
    }
}

extension ServiceTests {
    /// A path that exists answers an undeclared method with 405, `Allow` and a JSON reason;
    /// a path that does not exist is still 404.
    @Test func undeclaredMethodsAre405WithAllow() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            var response = try await client.execute(uri: "/healthz", method: .init("TRACE")!)
            try expectError(response, .methodNotAllowed, field: nil, containing: "TRACE")
            #expect(response.headers[.allow] == "GET")
            response = try await client.execute(uri: "/v1/jobs", method: .put)
            try expectError(response, .methodNotAllowed, field: nil)
            #expect(response.headers[.allow] == "GET, POST")
            response = try await client.execute(uri: "/v1/jobs/abc", method: .post)
            #expect(response.headers[.allow] == "DELETE, GET")
            response = try await client.execute(uri: "/v1/worker/leases/abc/partial", method: .get)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "PUT")
            #expect(try await client.execute(uri: "/v1/nothing", method: .get).status == .notFound)
            try expectError(try await client.execute(uri: "/v1/jobs/abc", method: .get), .notFound, field: "id")
        }
    }
}

/// The value of the sample `name` (with its labels) in Prometheus text, if present.
func metric(_ text: String, _ name: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.dropFirst(name.count + 1))
    }
    return nil
}
