import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// A job whose report may not be held whole (`merge_memory_bytes`) is merged at the end as a
/// stream from its partials, one block of each in memory, and gives the same files.
@Suite struct StreamedMergeTests {
    static func coordinator(_ fixture: Fixture, mergeMemoryBytes: Int, mergeRanges: Int = 1) throws -> Coordinator {
        var configuration = fixture.configuration
        configuration.mergeMemoryBytes = mergeMemoryBytes
        configuration.mergeRanges = mergeRanges
        // Head starts are one process's (a shared store turns them off: the replica that receives a
        // partial is seldom the one that merges), so the tests of them run on SQLite.
        if mergeMemoryBytes > 0 { configuration.store = .sqlite }
        return try Coordinator(configuration: configuration, clock: fixture.clock)
    }

    /// The CSV and its gzip copy, as a client downloads them.
    static func expectResult(_ client: any TestClientProtocol, _ id: String) async throws {
        let done = try await getJob(client, id)
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        #expect(done.users == ExpectedReport.users && done.statistics == ExpectedReport.statistics)
        #expect(done.resultBytes == Int64(ExpectedReport.csv.count))
        #expect(try await client.execute(uri: "/v1/jobs/\(id)/result", method: .get).bytes == ExpectedReport.csv)
        var headers = HTTPFields()
        headers[.acceptEncoding] = "gzip"
        let zipped = try await client.execute(uri: "/v1/jobs/\(id)/result", method: .get, headers: headers)
        #expect(try gunzip(zipped.bytes) == ExpectedReport.csv)
    }

    /// One range, or the key space split and the ranges merged on threads of their own.
    @Test(arguments: [1, 4])
    func everyJobStreamedWithALimitOfZero(mergeRanges: Int) async throws {
        let fixture = try Fixture()
        let coordinator = try Self.coordinator(fixture, mergeMemoryBytes: 0, mergeRanges: mergeRanges)
        try await withPlannedJob(coordinator) { client, job in
            try await workUntilNoTasks(client)
            #expect(coordinator.merges.folds.streams(job.id))
            await coordinator.runOnce()
            try await Self.expectResult(client, job.id)
        }
    }

    @Test func aHeadStartThatOutgrowsTheLimitIsDroppedAndTheJobStreamed() async throws {
        let fixture = try Fixture()
        let coordinator = try Self.coordinator(fixture, mergeMemoryBytes: 1)
        try await withPlannedJob(coordinator) { client, job in
            try await workUntilNoTasks(client)
            #expect(!coordinator.merges.folds.streams(job.id))
            coordinator.merges.folds.advance(job.id)  // what each commit does in the pipeline
            #expect(coordinator.merges.folds.streams(job.id) && coordinator.merges.folds.nextPartial(job.id) == nil)
            await coordinator.runOnce()
            try await Self.expectResult(client, job.id)
        }
    }

    @Test func aPartialDamagedOnDiskIsComputedAgainNotMerged() async throws {
        let fixture = try Fixture()
        let coordinator = try Self.coordinator(fixture, mergeMemoryBytes: 0)
        try await withPlannedJob(coordinator) { client, job in
            try await workUntilNoTasks(client)
            // One bit flipped in the middle of a committed partial (a disk that rots).
            let path = coordinator.files.partialPath(job.id, 0)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0x10
            try bytes.write(to: URL(fileURLWithPath: path))
            await coordinator.runOnce()
            #expect(try await getJob(client, job.id).state == .running)
            let grant = try #require(try await lease(client, worker: "w2"))
            #expect(grant.task.index == 0)
            try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
            await coordinator.runOnce()
            try await Self.expectResult(client, job.id)
        }
    }

    @Test func aPartialLostBeforeAStreamedMergeIsComputedAgain() async throws {
        let fixture = try Fixture()
        let coordinator = try Self.coordinator(fixture, mergeMemoryBytes: 0)
        try await withPlannedJob(coordinator) { client, job in
            try await workUntilNoTasks(client)
            try Data().write(to: URL(fileURLWithPath: coordinator.files.partialPath(job.id, 1)))
            await coordinator.runOnce()
            #expect(try await getJob(client, job.id).state == .running)
            #expect(!FileManager.default.fileExists(atPath: coordinator.files.resultPath(job.id)), "no result from a failed stream")
            let grant = try #require(try await lease(client, worker: "w2"))
            #expect(grant.task.index == 1)
            try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
            await coordinator.runOnce()
            try await Self.expectResult(client, job.id)
        }
    }
}
