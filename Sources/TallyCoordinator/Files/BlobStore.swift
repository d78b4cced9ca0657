import Foundation
import Logging
import NIOPosix
import TallyStore

/// The coordinator's files — partials, merge ranges, results, shard-cache entries, user
/// directories — as every replica sees them (docs/design.md §3.11). Each file has a local copy
/// in this replica's data directory under the name it has in the store (its path relative to
/// the data directory): readers `fetch` it first, writers `publish` it once written.
///
/// With `LocalBlobStore` the data directory is the store and every call but removal is free;
/// with `S3BlobStore` a bucket is, and a replica's data directory holds copies it may lose.
protocol BlobStore: Sendable {
    /// The data directory the local copies are in.
    var files: DataDirectory { get }
    /// Whether the files live outside the data directory (and the names of uploads carry
    /// their lease: `DataDirectory.namesByLease`).
    var isShared: Bool { get }
    /// Publishes the local file at `path` under its name. With `exclusive`, a file published
    /// under that name already is kept (`If-None-Match: *`).
    func publish(_ path: String, exclusive: Bool) async throws
    /// Makes sure the local copy of the file at `path` is there, fetching it; false when the
    /// store has no such file.
    func fetch(_ path: String) async throws -> Bool
    /// Fetches the file at `path` even when a local copy is there: for a file whose name a later
    /// planning reuses (a job's user directory); false when the store has no such file.
    func refetch(_ path: String) async throws -> Bool
    /// Removes the files at `paths` from the store (not their local copies).
    func remove(_ paths: [String]) async throws
    /// Removes every file under the folder at `path` from the store (not the local copies).
    func removeFolder(_ path: String) async throws
    /// The names (relative to the data directory) of the stored files under the folder `name`.
    func storedNames(under name: String) async throws -> [String]
}

extension BlobStore {
    /// The local paths of a merging job's partials in plan order, fetched where a local copy is
    /// missing; one the store lacks too stays missing, and reading it finds the partial lost.
    func partials(of job: JobRecord, store: any JobStore) async throws -> [String] {
        guard isShared else { return (0..<job.tasksTotal).map { files.partialPath(job.id, $0) } }
        let names = try await store.partialNames(of: job.id, task: nil)
        let paths = (0..<job.tasksTotal).map { files.partialPath(job.id, $0, origin: names[$0]) }
        try await fetch(paths)
        return paths
    }

    /// The local path of one partial of a job, fetched where missing.
    func partial(of jobId: String, index: Int, store: any JobStore) async throws -> String {
        guard isShared else { return files.partialPath(jobId, index) }
        let path = files.partialPath(jobId, index, origin: try await store.partialNames(of: jobId, task: index)[index])
        _ = try await fetch(path)
        return path
    }

    /// Fetches the files at `paths`, a few at once.
    func fetch(_ paths: [String]) async throws {
        guard isShared else { return }
        try await Self.transfer(paths) { _ = try await self.fetch($0) }
    }

    /// Publishes the files at `paths`, a few at once.
    func publish(_ paths: [String], exclusive: Bool) async throws {
        guard isShared else { return }
        try await Self.transfer(paths) { try await self.publish($0, exclusive: exclusive) }
    }

    /// Runs `transfer` on each item, `parallelTransfers` at once; the first error ends them all.
    static func transfer<Item: Sendable>(_ items: [Item], _ transfer: @escaping @Sendable (Item) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, item) in items.enumerated() {
                if n >= parallelTransfers { try await group.next() }
                group.addTask { try await transfer(item) }
            }
            try await group.waitForAll()
        }
    }

    /// Transfers run at once by `fetch(_:)`, `publish(_:exclusive:)` and removal.
    static var parallelTransfers: Int { 8 }

    /// Before a commit: with shared blobs, the uploads are moved to their lease's names and
    /// published, so the commit row names what every replica can read; the paths published,
    /// for `withdraw` when the commit is refused. Locally, nothing: `installOnCommit` moves them.
    func stage(_ uploads: [(upload: String, path: String)]) async throws -> [String] {
        guard isShared else { return [] }
        try await NIOThreadPool.singleton.runIfActive {
            for (upload, path) in uploads {
                // A retried upload of a lease already staged: the first one's bytes are the
                // bucket's, and the local copy stays theirs.
                if FileManager.default.fileExists(atPath: path) {
                    try? FileManager.default.removeItem(atPath: upload)
                } else {
                    try files.install(upload, as: path)
                }
            }
        }
        // A retried upload of the same lease finds the key taken: the same lease's bytes.
        try await publish(uploads.map(\.path), exclusive: true)
        return uploads.map(\.path)
    }

    /// Inside the commit's transaction: locally, the uploads are renamed into place, so a file
    /// is installed iff its commit is; with shared blobs they were staged already.
    func installOnCommit(_ uploads: [(upload: String, path: String)]) throws {
        guard !isShared else { return }
        for (upload, path) in uploads { try files.install(upload, as: path) }
    }

    /// After a refused commit: what `stage` published goes, local copies too. A failure is only
    /// logged: the job's clean-up removes every file under the job's partials.
    func withdraw(_ staged: [String], logger: Logger) async {
        guard !staged.isEmpty else { return }
        do {
            try await NIOThreadPool.singleton.runIfActive { for path in staged { try? FileManager.default.removeItem(atPath: path) } }
            try await remove(staged)
        } catch {
            logger.warning("a refused upload's files not withdrawn", metadata: ["error": "\(error)"])
        }
    }

    /// Removes a job's partials and merge ranges, here and in the store.
    func removePartials(_ jobId: String) async throws {
        let files = self.files
        try await NIOThreadPool.singleton.runIfActive { files.removePartials(jobId) }
        try await removeFolder(files.partialsFolder(jobId))
    }

    /// Removes all of a job's files, here and in the store.
    func removeJob(_ jobId: String) async throws {
        let files = self.files
        try await NIOThreadPool.singleton.runIfActive { files.removeJob(jobId) }
        try await removeFolder(files.jobFolder(jobId))
    }
}
