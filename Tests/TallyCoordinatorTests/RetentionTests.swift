import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// Results expire after `result_ttl_days` (410 with the reason, files deleted, the job still
/// listed as expired); job records go after `job_retention_days`. Time from the injected clock.
@Suite struct RetentionTests {
    @Test func resultsExpireThenJobRecordsArePruned() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.resultTTLDays = 7
        configuration.jobRetentionDays = 30
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock, registry: .init(), metricsFactory: nil)
        try await withPlannedJob(coordinator) { client, job in
            while let grant = try await lease(client, worker: "w1") {
                try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
            }
            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded && done.resultExpired == false)
            let finished = try #require(done.finishedAt)
            #expect(try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).status == .ok)
            let folder = fixture.dataDirectory + "/jobs/" + job.id

            fixture.clock.advance(by: 7 * 86_400 - 10)
            await coordinator.scheduler().runOnce(cleanUp: true)
            #expect(try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).status == .ok)

            fixture.clock.advance(by: 20)
            await coordinator.scheduler().runOnce(cleanUp: true)
            let gone = try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get)
            try expectError(gone, .gone, field: "id", containing: "expired at \(try #require(done.resultExpiresAt))")
            #expect(!FileManager.default.fileExists(atPath: folder))
            let expired = try await getJob(client, job.id)
            #expect(expired.state == .succeeded && expired.resultExpired == true && expired.finishedAt == finished)
            #expect(expired.users == done.users)

            fixture.clock.advance(by: 23 * 86_400)
            await coordinator.scheduler().runOnce(cleanUp: true)
            try expectError(try await client.execute(uri: "/v1/jobs/\(job.id)", method: .get), .notFound, field: "id")
            let listed = try await client.execute(uri: "/v1/jobs", method: .get).decode(JobList.self)
            #expect(listed.jobs.isEmpty)
        }
    }
}
