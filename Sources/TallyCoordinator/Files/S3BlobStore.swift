import Foundation
import Logging
import TallySources

/// A folder of an S3-compatible bucket as the store of the coordinator's files, shared by every
/// replica; a file's key is its name relative to the data directory, under the folder.
struct S3BlobStore: BlobStore {
    let files: DataDirectory
    let bucket: S3Bucket
    let logger: Logger
    var isShared: Bool { true }
    /// How a request that failed on the way (a connection, a 5xx, `SlowDown`) is tried again:
    /// a blip costs a pause, not a job.
    static let retry = SourceRetryPolicy(attempts: 4, initialBackoffSeconds: 0.5, maximumBackoffSeconds: 5, budgetSeconds: 30)

    /// `operation` under the retry policy, its retries logged; a failure is a `BlobStoreError`
    /// saying `what`.
    private func attempt<T>(_ what: @autoclosure () -> String, _ operation: () async throws -> T) async throws -> T {
        do {
            return try await Self.retry.run(operation) { retry, error, pause in
                logger.warning(
                    "blob store request failed, retrying",
                    metadata: ["error": "\(error)", "retry": "\(retry)", "pause_seconds": "\(pause)"])
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw BlobStoreError(what: what(), reason: "\(error)")
        }
    }

    /// The key of the local file at `path`.
    private func key(of path: String) throws -> String {
        guard let name = files.relativeName(of: path) else {
            throw CoordinatorError.storage("\(path) is outside the data directory \(files.root)")
        }
        return name
    }

    func publish(_ path: String, exclusive: Bool) async throws {
        let key = try key(of: path)
        try await attempt("cannot publish \(path) to \(bucket.location(of: key))") {
            try await bucket.put(key, file: path, exclusive: exclusive)
        }
    }

    func fetch(_ path: String) async throws -> Bool {
        if FileManager.default.fileExists(atPath: path) { return true }
        return try await refetch(path)
    }

    func refetch(_ path: String) async throws -> Bool {
        let key = try key(of: path)
        return try await attempt("cannot fetch \(bucket.location(of: key)) to \(path)") { try await bucket.download(key, to: path) }
    }

    func remove(_ paths: [String]) async throws {
        try await Self.transfer(try paths.map(key(of:))) { key in
            try await attempt("cannot delete \(bucket.location(of: key))") { try await bucket.delete(key) }
        }
    }

    func removeFolder(_ path: String) async throws {
        let folder = try key(of: path) + "/"
        try await remove(try await storedNames(under: folder).map { files.root + "/" + $0 })
    }

    func storedNames(under name: String) async throws -> [String] {
        let folder = name.hasSuffix("/") ? name : name + "/"
        return try await attempt("cannot list \(bucket.location(of: folder))") { try await bucket.keys(below: folder) }
    }
}
