import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// Jobs share the workers, and a repeated submit is one job.
@Suite struct SchedulingTests {
    @Test func leasesAlternateBetweenRunningJobs() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let big = try await submit(client)
            let small = try await submit(client)
            await coordinator.runOnce()
            var order: [String] = []
            while let grant = try await lease(client, worker: "w") { order.append(grant.jobId) }
            // The later job gets the second lease, not the third: it is not held back.
            #expect(order == [big.id, small.id, big.id, small.id])
        }
    }

    @Test func aRepeatedIdempotencyKeyGivesTheSameJob() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            func post(key: String, to: String = windowTo) async throws -> TestResponse {
                var headers = jsonHeaders
                headers.append(.init(name: .init("Idempotency-Key")!, value: key))
                return try await client.execute(uri: "/v1/jobs", method: .post, headers: headers, body: jobRequest(to: to))
            }
            let first = try await post(key: "report-2026-10")
            #expect(first.status == .accepted)
            let again = try await post(key: "report-2026-10")
            #expect(again.status == .accepted)
            #expect(again.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(try again.decode(JobStatus.self).id == (try first.decode(JobStatus.self).id))
            let list = try await client.execute(uri: "/v1/jobs", method: .get).decode(JobList.self)
            #expect(list.jobs.count == 1)
            // The same key with another request is refused; another key makes another job.
            try expectError(try await post(key: "report-2026-10", to: "2026-10-01T12:00:00Z"), .conflict, field: "Idempotency-Key")
            #expect(try await post(key: "report-2026-11").status == .accepted)
            try expectError(try await post(key: "has space"), .badRequest, field: "Idempotency-Key")
            // A day later the key is free again.
            fixture.clock.advance(by: 86_401)
            let later = try await post(key: "report-2026-10")
            #expect(try later.decode(JobStatus.self).id != (try first.decode(JobStatus.self).id))
        }
    }
}
