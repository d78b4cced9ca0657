import Foundation
import TallyReport

/// The coordinator's files: the job store, partials and results, all under one directory.
/// Files are written to a temporary name and renamed into place, so a crash never leaves a
/// half-written partial or result where a reader would take it for a whole one.
struct DataDirectory: Sendable {
    /// The root.
    let root: String
    /// Space kept free for the job store: a partial or result that would leave less is refused,
    /// so a filling disk fails uploads with a reason the store still has room to record.
    let minimumFreeBytes: Int64
    /// Whether the files of uploads carry their lease in their names: with shared blobs, where
    /// a replica's local copy named by task alone could be another lease's, older than the one
    /// the store says counts (docs/design.md §3.11).
    let namesByLease: Bool

    /// The data directory an administrative command names (`--data-dir`); a command given only a
    /// shared store names none, and has no SQLite store to open.
    init(administering root: String?) throws {
        guard let root else { throw CoordinatorError.storage("no --data-dir given: it holds the SQLite store") }
        try self.init(root: root)
    }

    /// Creates the directory tree when missing.
    init(root: String, minimumFreeBytes: Int64 = 0, namesByLease: Bool = false) throws {
        self.root = root
        self.namesByLease = namesByLease
        self.minimumFreeBytes = minimumFreeBytes
        // Reports, partials, the job store and the activity log are for the coordinator's user
        // alone: everything the process creates from here on is 0600, folders 0700 (the umask is
        // the process's, and a coordinator process owns its data directory).
        umask(0o077)
        for folder in [root, root + "/jobs"] {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw CoordinatorError.storage("cannot create data directory \(folder): \(error.localizedDescription)")
            }
        }
        // A read-only or full data directory is said at start-up, not found by the first upload.
        let probe = root + "/.write-probe"
        do {
            try Self.writeSynced(Array(repeating: 0, count: 4096), to: probe)
            try? FileManager.default.removeItem(atPath: probe)
        } catch {
            try? FileManager.default.removeItem(atPath: probe)
            throw CoordinatorError.storage("the data directory \(root) is not writable: \(error)")
        }
        try requireRoom(for: 0)
    }

    /// The SQLite job store.
    var databasePath: String { root + "/tally.sqlite" }
    /// The API activity log, a database of its own so its batched appends never queue behind
    /// the job store's writes.
    var activityDatabasePath: String { root + "/activity.sqlite" }

    /// A job's folder.
    func jobFolder(_ jobId: String) -> String { root + "/jobs/" + jobId }

    /// Where a task's partial lives; `origin` is what it came from (`JobStore.partialNames`:
    /// the lease whose upload it is, or the cached shard it was given).
    func partialPath(_ jobId: String, _ index: Int, origin: String? = nil) -> String {
        jobFolder(jobId) + "/partials/\(index)\(suffix(origin)).partial"
    }

    /// What an origin adds to a file's name.
    private func suffix(_ origin: String?) -> String {
        guard namesByLease, let origin else { return "" }
        return "-" + origin
    }

    /// A temporary name for one upload being received and checked: one of its own, since a worker
    /// retrying an upload that timed out sends a second one for the lease while the first is
    /// still arriving.
    func uploadPath(_ jobId: String, leaseId: String) -> String {
        jobFolder(jobId) + "/partials/upload-\(leaseId)-\(UUID().uuidString.lowercased()).tmp"
    }

    /// A merge task's committed files (beside the partials, removed with them).
    struct RangeFiles {
        /// The range's rows, compressed.
        var segment: String
        /// The same rows inflated, written as they were checked, so the join copies them.
        var rows: String
        /// What was kept of those rows when they were accepted (`AcceptedRange`, JSON).
        var record: String

        /// All three.
        var all: [String] { [segment, rows, record] }
    }

    /// Where merge task `index`'s files live; `lease` is the one that uploaded them.
    func rangeFiles(_ jobId: String, _ index: Int, lease: String?) -> RangeFiles {
        let base = jobFolder(jobId) + "/partials/range-\(index)\(suffix(lease))"
        return RangeFiles(segment: base + ".deflate", rows: base + ".csv", record: base + ".json")
    }

    /// The name of a file under the root, relative to it (the key it has in shared blobs).
    func relativeName(of path: String) -> String? {
        guard path.hasPrefix(root + "/") else { return nil }
        return String(path.dropFirst(root.count + 1))
    }

    /// The folder of a job's partials.
    func partialsFolder(_ jobId: String) -> String { jobFolder(jobId) + "/partials" }

    /// The emails of an inactive-users job's user directory, read when it was planned.
    func userDirectoryPath(_ jobId: String) -> String { jobFolder(jobId) + "/users.directory" }

    /// The CSV result.
    func resultPath(_ jobId: String) -> String { jobFolder(jobId) + "/result.csv" }

    /// The gzip copy of the CSV result, served to clients that accept gzip.
    func gzipResultPath(_ jobId: String) -> String { jobFolder(jobId) + "/result.csv.gz" }

    /// The result's figures and charts (`ReportSummary`, JSON), summed as its rows were written.
    func summaryPath(_ jobId: String) -> String { jobFolder(jobId) + "/result.summary.json" }

    /// Writes a result's summary beside it.
    func writeSummary(_ summary: ReportSummary, of jobId: String) throws {
        try write(Array(try JSONEncoder().encode(summary)), to: summaryPath(jobId))
    }

    /// Writes `bytes` durably and atomically at `path`, creating folders: the bytes are written
    /// to a temporary name and flushed to the disk (`fsync`), renamed into place, and the
    /// folder is flushed too, so after a power loss the file is either whole or absent.
    func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = path + ".tmp-\(UUID().uuidString)"
        do {
            try requireRoom(for: bytes.count)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Self.writeSynced(bytes, to: temporary)
            try Self.rename(temporary, path)
            try Self.syncFolder(folder)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CoordinatorError.storage("cannot write \(path): \(error)")
        }
    }

    /// Refuses a write of `count` bytes that would leave less than `minimumFreeBytes` free.
    func requireRoom(for count: Int) throws {
        guard minimumFreeBytes > 0 else { return }
        var info = statvfs()
        guard statvfs(root, &info) == 0 else { return }  // cannot tell: let the write itself decide
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        guard free - Int64(count) >= minimumFreeBytes else {
            throw CoordinatorError.storage(
                "the data directory \(root) has \(free) bytes free, "
                    + "and writing \(count) more would leave less than min_free_bytes (\(minimumFreeBytes))")
        }
    }

    /// Writes and `fsync`s a new file; a full disk or a read-only folder is an error naming it.
    private static func writeSynced(_ bytes: [UInt8], to path: String) throws {
        let fd = try create(path)
        defer { close(fd) }
        try writeAll(bytes, to: fd, path: path)
        try sync(fd, path: path)
    }

    /// Creates (or empties) a file for writing, readable by the coordinator only.
    static func create(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CoordinatorError.storage("cannot create \(path): \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Flushes a file written through `fd` to the disk.
    static func sync(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw CoordinatorError.storage("cannot flush \(path) to disk: \(String(cString: strerror(errno)))") }
    }

    /// Writes every byte of `bytes` to `fd` (short writes and interruptions resumed).
    static func writeAll(_ bytes: some ContiguousBytes, to fd: Int32, path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CoordinatorError.storage("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    /// `fsync`s a folder, so a rename within it survives a power loss.
    static func syncFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CoordinatorError.storage("cannot open \(folder): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CoordinatorError.storage("cannot flush \(folder) to disk: \(String(cString: strerror(errno)))") }
    }

    /// `rename(2)`: atomic replacement within one file system.
    static func rename(_ from: String, _ to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw CoordinatorError.storage("cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }

    /// Installs an upload as a task's partial: renamed into place and the folder flushed, so a
    /// commit recorded after it never names a partial a power loss could take away.
    func install(_ upload: String, as partial: String) throws {
        // Installed already (a commit whose transaction ran again): the upload is in place.
        if !FileManager.default.fileExists(atPath: upload), FileManager.default.fileExists(atPath: partial) { return }
        try Self.rename(upload, partial)
        try Self.syncFolder(URL(fileURLWithPath: partial).deletingLastPathComponent().path)
    }

    /// The shard cache's folder; entries name their files relative to the root.
    var shardCacheFolder: String { root + "/cache/shards" }

    /// The absolute path of a file named relative to the root.
    func path(relative name: String) -> String { root + "/" + name }

    /// Gives the file at `source` a second name at `target` (replacing what is there): a hard
    /// link, so sharing a partial between a job and the cache costs no copy and either may be
    /// deleted first; a copy where the file system has no hard links. Folders are created and
    /// `target`'s is flushed.
    func share(_ source: String, as target: String) throws {
        let folder = URL(fileURLWithPath: target).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CoordinatorError.storage("cannot create \(folder): \(error.localizedDescription)")
        }
        let temporary = target + ".tmp-\(UUID().uuidString)"
        if link(source, temporary) != 0 {
            let reason = errno
            guard reason == EXDEV || reason == EPERM || reason == EMLINK || reason == ENOTSUP else {
                throw CoordinatorError.storage("cannot link \(source) to \(temporary): \(String(cString: strerror(reason)))")
            }
            guard let data = FileManager.default.contents(atPath: source) else {
                throw CoordinatorError.storage("cannot read \(source)")
            }
            try requireRoom(for: data.count)
            try Self.writeSynced(Array(data), to: temporary)
        }
        do {
            try Self.rename(temporary, target)
            try Self.syncFolder(folder)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Removes a job's partials (merged into its result, or left by an interrupted planning).
    func removePartials(_ jobId: String) {
        try? FileManager.default.removeItem(atPath: partialsFolder(jobId))
    }

    /// Removes a job's files.
    func removeJob(_ jobId: String) {
        try? FileManager.default.removeItem(atPath: jobFolder(jobId))
    }
}
