import Foundation
import TallyStore
import Testing

@testable import TallyCoordinator

/// The names files get, and what the local blob store does around a commit (the S3 store is
/// driven end to end in tests/e2e/test_blobs.py and test_replicas.py, against moto).
@Suite struct BlobStoreTests {
    private func folder(namesByLease: Bool) throws -> DataDirectory {
        try DataDirectory(root: NSTemporaryDirectory() + "tally-blobs-" + UUID().uuidString, namesByLease: namesByLease)
    }

    /// With shared blobs an upload's files carry its lease, so a replica's copy of one lease's
    /// partial is never taken for another's; locally they are named by task alone, as before.
    @Test func uploadsAreNamedByTheirLeaseOnlyWithSharedBlobs() throws {
        let local = try folder(namesByLease: false)
        let shared = try folder(namesByLease: true)
        defer { for f in [local, shared] { try? FileManager.default.removeItem(atPath: f.root) } }
        #expect(local.partialPath("j", 3, origin: "a") == local.partialPath("j", 3))
        #expect(local.rangeFiles("j", 1, lease: "a").segment == local.jobFolder("j") + "/partials/range-1.deflate")
        #expect(shared.partialPath("j", 3, origin: "a") != shared.partialPath("j", 3, origin: "b"))
        #expect(shared.partialPath("j", 3, origin: "a").hasSuffix("/partials/3-a.partial"))
        // A task given a cached shard has no lease: its partial is named by the task.
        #expect(
            shared.partialPath("j", 3, origin: nil) == local.partialPath("j", 3).replacingOccurrences(of: local.root, with: shared.root))
        #expect(shared.relativeName(of: shared.partialPath("j", 3, origin: "a")) == "jobs/j/partials/3-a.partial")
        #expect(shared.relativeName(of: "/elsewhere/x") == nil)
    }

    /// Locally nothing is staged: the upload is renamed into place by the commit alone, so a
    /// refused commit leaves no partial behind.
    @Test func theLocalStoreInstallsOnlyWithTheCommit() async throws {
        let files = try folder(namesByLease: false)
        defer { try? FileManager.default.removeItem(atPath: files.root) }
        let blobs = LocalBlobStore(files: files)
        let upload = files.uploadPath("j", leaseId: "a")
        try files.write([1, 2, 3], to: upload)
        let uploads = [(upload, files.partialPath("j", 0, origin: "a"))]
        #expect(try await blobs.stage(uploads).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: files.partialPath("j", 0)))
        try blobs.installOnCommit(uploads)
        #expect(FileManager.default.contents(atPath: files.partialPath("j", 0)) == Data([1, 2, 3]))
        #expect(!FileManager.default.fileExists(atPath: upload))
        #expect(try await blobs.fetch(files.partialPath("j", 0)))
        #expect(try await !blobs.fetch(files.partialPath("j", 1)))
    }
}
