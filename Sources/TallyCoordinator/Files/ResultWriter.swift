import Foundation
import TallyDeflate

/// A job's CSV result and its gzip copy written as a stream of chunks, so a report merged user
/// by user is never held whole (docs/design.md §3.8): both files are written under temporary
/// names, flushed (`fsync`) and renamed into place by `finish`, like `DataDirectory.write`.
/// Owned by one merge on one thread.
final class ResultWriter {
    private let files: DataDirectory
    private let paths: (csv: String, gzip: String)
    private let temporary: (csv: String, gzip: String)
    private var descriptors: (csv: Int32, gzip: Int32) = (-1, -1)
    private let deflater: GzipDeflater
    /// Bytes of CSV written.
    private(set) var bytes: Int64 = 0
    private var sinceRoomCheck = 0

    /// Free-space checks happen at most this often.
    private static let roomCheckBytes = 16 << 20

    /// Starts the job's result files.
    init(files: DataDirectory, jobId: String) throws {
        self.files = files
        paths = (files.resultPath(jobId), files.gzipResultPath(jobId))
        let suffix = ".tmp-\(UUID().uuidString)"
        temporary = (paths.csv + suffix, paths.gzip + suffix)
        deflater = try GzipDeflater(level: 6)
        let folder = URL(fileURLWithPath: paths.csv).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CoordinatorError.storage("cannot create \(folder): \(error.localizedDescription)")
        }
        descriptors.csv = try Self.create(temporary.csv)
        do {
            descriptors.gzip = try Self.create(temporary.gzip)
        } catch {
            abandon()
            throw error
        }
    }

    deinit {
        abandon()
    }

    private static func create(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CoordinatorError.storage("cannot create \(path): \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Appends CSV bytes (and their compressed form).
    func append(_ chunk: [UInt8]) throws {
        sinceRoomCheck += chunk.count
        if sinceRoomCheck >= Self.roomCheckBytes {
            try files.requireRoom(for: sinceRoomCheck)
            sinceRoomCheck = 0
        }
        try DataDirectory.writeAll(chunk, to: descriptors.csv, path: temporary.csv)
        bytes += Int64(chunk.count)
        let (fd, path) = (descriptors.gzip, temporary.gzip)
        try chunk.withUnsafeBytes { input in
            try deflater.compress(input) { output throws in try DataDirectory.writeAll(output, to: fd, path: path) }
        }
    }

    /// Appends the bytes of the file at `path` (a range's rows), a chunk at a time.
    func append(contentsOf path: String) throws {
        guard let part = FileHandle(forReadingAtPath: path) else { throw CoordinatorError.storage("cannot read \(path)") }
        defer { try? part.close() }
        while let chunk = try part.read(upToCount: 1 << 20), !chunk.isEmpty { try append(Array(chunk)) }
    }

    /// Ends the gzip stream, flushes both files and renames them into place.
    func finish() throws {
        let (fd, path) = (descriptors.gzip, temporary.gzip)
        try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { output throws in
            try DataDirectory.writeAll(output, to: fd, path: path)
        }
        for (fd, path) in [(descriptors.csv, temporary.csv), (descriptors.gzip, temporary.gzip)] {
            guard fsync(fd) == 0 else {
                throw CoordinatorError.storage("cannot flush \(path) to disk: \(String(cString: strerror(errno)))")
            }
        }
        close(descriptors.csv)
        close(descriptors.gzip)
        descriptors = (-1, -1)
        try DataDirectory.rename(temporary.csv, paths.csv)
        try DataDirectory.rename(temporary.gzip, paths.gzip)
        try DataDirectory.syncFolder(URL(fileURLWithPath: paths.csv).deletingLastPathComponent().path)
    }

    /// Closes and removes what was written (a merge that failed).
    func abandon() {
        for fd in [descriptors.csv, descriptors.gzip] where fd >= 0 { close(fd) }
        descriptors = (-1, -1)
        try? FileManager.default.removeItem(atPath: temporary.csv)
        try? FileManager.default.removeItem(atPath: temporary.gzip)
    }
}
