import Foundation
import TallySources

/// A folder of an S3-compatible bucket as the store of the coordinator's files, shared by every
/// replica; a file's key is its name relative to the data directory, under the folder.
struct S3BlobStore: BlobStore {
    let files: DataDirectory
    let bucket: S3Bucket
    var isShared: Bool { true }
    /// How a request that failed on the way (a connection, a 5xx, `SlowDown`) is tried again:
    /// a blip costs a pause, not a job.
    static let retry = SourceRetryPolicy(attempts: 4, initialBackoffSeconds: 0.5, maximumBackoffSeconds: 5, budgetSeconds: 30)

    /// The key of the local file at `path`.
    private func key(of path: String) throws -> String {
        guard let name = files.relativeName(of: path) else {
            throw CoordinatorError.storage("\(path) is outside the data directory \(files.root)")
        }
        return name
    }

    func publish(_ path: String, exclusive: Bool) async throws {
        let key = try key(of: path)
        do {
            _ = try await Self.retry.run { try await bucket.put(key, file: path, exclusive: exclusive) }
        } catch {
            throw CoordinatorError.storage("cannot publish \(path) to \(bucket.location(of: key)): \(error)")
        }
    }

    func fetch(_ path: String) async throws -> Bool {
        if FileManager.default.fileExists(atPath: path) { return true }
        let key = try key(of: path)
        do {
            return try await Self.retry.run { try await bucket.download(key, to: path) }
        } catch {
            throw CoordinatorError.storage("cannot fetch \(bucket.location(of: key)) to \(path): \(error)")
        }
    }

    func remove(_ paths: [String]) async throws {
        let keys = try paths.map(key(of:))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, key) in keys.enumerated() {
                if n >= Self.parallelTransfers { try await group.next() }
                group.addTask { try await Self.retry.run { try await bucket.delete(key) } }
            }
            try await group.waitForAll()
        }
    }

    func removeFolder(_ path: String) async throws {
        let folder = try key(of: path) + "/"
        try await remove(try await Self.retry.run { try await bucket.keys(below: folder) }.map { files.root + "/" + $0 })
    }

    func storedNames(under name: String) async throws -> [String] {
        try await Self.retry.run { try await bucket.keys(below: name.hasSuffix("/") ? name : name + "/") }
    }
}
