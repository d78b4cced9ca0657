import Foundation
import NIOCore

/// A partial arriving from a worker, written to its upload file chunk by chunk as the body
/// streams in, so an upload costs the coordinator a buffer, not the partial's size in memory.
/// Blocking: call it from a thread pool. Not thread-safe: one upload, one writer at a time.
final class UploadFile: @unchecked Sendable {
    let path: String
    private let files: DataDirectory
    private var descriptor: Int32
    /// Bytes written so far.
    private(set) var size = 0

    /// Creates (truncating) the file at `path`, and its folders.
    init(path: String, files: DataDirectory) throws {
        self.path = path
        self.files = files
        do {
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                withIntermediateDirectories: true)
        } catch {
            throw CoordinatorError.storage("cannot create the folder of \(path): \(error)")
        }
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CoordinatorError.storage("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends `buffer`, if the data directory has room for it (`min_free_bytes`).
    func append(_ buffer: ByteBuffer) throws {
        try files.requireRoom(for: buffer.readableBytes)
        try buffer.withUnsafeReadableBytes { try DataDirectory.writeAll($0, to: descriptor, path: path) }
        size += buffer.readableBytes
    }

    /// Flushes the file to the disk and closes it; then reads it back whole (to decode it).
    func finish() throws -> [UInt8] {
        guard fsync(descriptor) == 0 else {
            throw CoordinatorError.storage("cannot flush \(path) to disk: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        descriptor = -1
        guard let data = FileManager.default.contents(atPath: path), data.count == size else {
            throw CoordinatorError.storage("cannot read back \(path)")
        }
        return Array(data)
    }

    /// Closes and removes the file: the upload was refused or cut short.
    func discard() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        try? FileManager.default.removeItem(atPath: path)
    }
}
