import CZlib
import Foundation

/// The coordinator's files: the job store, partials and results, all under one directory.
/// Files are written to a temporary name and renamed into place, so a crash never leaves a
/// half-written partial or result where a reader would take it for a whole one.
struct DataDirectory: Sendable {
    /// The root.
    let root: String

    /// Creates the directory tree when missing.
    init(root: String) throws {
        self.root = root
        for folder in [root, root + "/jobs"] {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw CoordinatorError.storage("cannot create data directory \(folder): \(error.localizedDescription)")
            }
        }
    }

    /// The SQLite job store.
    var databasePath: String { root + "/tally.sqlite" }

    /// A job's folder.
    func jobFolder(_ jobId: String) -> String { root + "/jobs/" + jobId }

    /// Where a task's committed partial lives.
    func partialPath(_ jobId: String, _ index: Int) -> String { jobFolder(jobId) + "/partials/\(index).partial" }

    /// A per-lease temporary name for an upload being checked.
    func uploadPath(_ jobId: String, leaseId: String) -> String { jobFolder(jobId) + "/partials/upload-\(leaseId).tmp" }

    /// The CSV result.
    func resultPath(_ jobId: String) -> String { jobFolder(jobId) + "/result.csv" }

    /// The gzip copy of the CSV result, served to clients that accept gzip.
    func gzipResultPath(_ jobId: String) -> String { jobFolder(jobId) + "/result.csv.gz" }

    /// Writes `bytes` atomically at `path`, creating folders.
    func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = path + ".tmp-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
            try Self.rename(temporary, path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CoordinatorError.storage("cannot write \(path): \(error)")
        }
    }

    /// `rename(2)`: atomic replacement within one file system.
    static func rename(_ from: String, _ to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw CoordinatorError.storage("cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes a job's files.
    func removeJob(_ jobId: String) {
        try? FileManager.default.removeItem(atPath: jobFolder(jobId))
    }

    /// Gzip of `bytes` (level 6), for the compressed result copy.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CoordinatorError.storage("zlib could not start")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        let status = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out -> Int32 in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw CoordinatorError.storage("gzip failed (\(status))") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}

/// Coordinator failures that are not a client's fault.
enum CoordinatorError: Error, CustomStringConvertible {
    /// The data directory could not be written or read.
    case storage(String)

    var description: String {
        switch self {
        case .storage(let reason): return reason
        }
    }
}
