import Foundation

/// The data directory as the store of the coordinator's files: one coordinator, or replicas
/// sharing one mounted folder. Publishing is done by writing the file; removal is the caller's.
struct LocalBlobStore: BlobStore {
    let files: DataDirectory
    var isShared: Bool { false }

    func publish(_ path: String, exclusive: Bool) async throws {}

    func fetch(_ path: String) async throws -> Bool { FileManager.default.fileExists(atPath: path) }

    func refetch(_ path: String) async throws -> Bool { try await fetch(path) }

    func remove(_ paths: [String]) async throws {}

    func removeFolder(_ path: String) async throws {}

    func storedNames(under name: String) async throws -> [String] { [] }
}
