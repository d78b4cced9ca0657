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
}
