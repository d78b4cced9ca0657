import Foundation
import TallyDeflate
import TallyReport

/// A job's CSV result and its gzip copy written as a stream of chunks, so a report merged user
/// by user is never held whole (docs/design.md §3.8): both files are written under temporary
/// names, flushed (`fsync`) and renamed into place by `finish`, like `DataDirectory.write`.
/// Owned by one merge on one thread.
///
/// The gzip copy is compressed here as the CSV comes (`.streamed`), or `.joined` from segments
/// the workers compressed (`GzipJoin`, docs/design.md §3.9), so joining a merge done by the
/// workers costs the coordinator an inflate, not a deflate.
final class ResultWriter {
    /// How the gzip copy is made.
    enum Compression {
        case streamed
        case joined
    }

    private let files: DataDirectory
    private let paths: (csv: String, gzip: String)
    private let temporary: (csv: String, gzip: String)
    private var descriptors: (csv: Int32, gzip: Int32) = (-1, -1)
    /// The deflater of a streamed copy.
    private let deflater: GzipDeflater?
    /// The CRC-32 of the CSV so far, for a joined copy's trailer.
    private var crc: UInt32 = 0
    /// Bytes of CSV written.
    private(set) var bytes: Int64 = 0
    /// The figures and charts, summed from the CSV as it is written, and the summaries of
    /// ranges copied in (`append(rows:…)`).
    private var summary = ReportSummary.Builder()
    private var rangeSummaries: [ReportSummary] = []
    private let jobId: String
    private var sinceRoomCheck = 0

    /// Free-space checks happen at most this often.
    private static let roomCheckBytes = 16 << 20

    /// Starts the job's result files.
    init(files: DataDirectory, jobId: String, compression: Compression = .streamed) throws {
        self.files = files
        self.jobId = jobId
        paths = (files.resultPath(jobId), files.gzipResultPath(jobId))
        let suffix = ".tmp-\(UUID().uuidString)"
        temporary = (paths.csv + suffix, paths.gzip + suffix)
        deflater = compression == .streamed ? try GzipDeflater() : nil
        let folder = URL(fileURLWithPath: paths.csv).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CoordinatorError.storage("cannot create \(folder): \(error.localizedDescription)")
        }
        descriptors.csv = try DataDirectory.create(temporary.csv)
        do {
            descriptors.gzip = try DataDirectory.create(temporary.gzip)
            if deflater == nil { try DataDirectory.writeAll(GzipJoin.header, to: descriptors.gzip, path: temporary.gzip) }
        } catch {
            abandon()
            throw error
        }
    }

    deinit {
        abandon()
    }

    /// Appends CSV bytes (and their compressed form; in a joined copy, a segment of their own).
    func append(_ chunk: [UInt8]) throws {
        try appendCSV(chunk)
        let (fd, path) = (descriptors.gzip, temporary.gzip)
        let deflater = try self.deflater ?? GzipDeflater(wrapper: .raw)
        try chunk.withUnsafeBytes { input in
            try deflater.compress(input, syncFlush: self.deflater == nil) { output throws in
                try DataDirectory.writeAll(output, to: fd, path: path)
            }
        }
    }

    private func appendCSV(_ chunk: UnsafeRawBufferPointer) throws {
        sinceRoomCheck += chunk.count
        if sinceRoomCheck >= Self.roomCheckBytes {
            try files.requireRoom(for: sinceRoomCheck)
            sinceRoomCheck = 0
        }
        try DataDirectory.writeAll(chunk, to: descriptors.csv, path: temporary.csv)
        summary.consume(chunk)
        bytes += Int64(chunk.count)
        if deflater == nil { crc = GzipJoin.crc32(chunk, continuing: crc) }
    }

    private func appendCSV(_ chunk: [UInt8]) throws {
        try chunk.withUnsafeBytes { try appendCSV($0) }
    }

    /// Appends a raw DEFLATE segment (a joined copy only): its bytes to the gzip copy, its
    /// inflated bytes to the CSV, which must be `length` bytes of CRC-32 `crc` (what was
    /// checked when it was accepted; a segment damaged since is refused).
    func append(segment path: String, crc expected: UInt32, length: Int64) throws {
        guard deflater == nil else { throw CoordinatorError.storage("a segment appended to a result compressed as it is written") }
        try files.requireRoom(for: Int(clamping: length))
        guard let segment = FileHandle(forReadingAtPath: path) else { throw CoordinatorError.storage("cannot read \(path)") }
        defer { try? segment.close() }
        let inflater = try RawInflater(limit: length)
        var crc: UInt32 = 0
        while let chunk = try segment.read(upToCount: 1 << 20), !chunk.isEmpty {
            try DataDirectory.writeAll(chunk, to: descriptors.gzip, path: temporary.gzip)
            try chunk.withUnsafeBytes { input in
                try inflater.inflate(input) { csv in
                    crc = GzipJoin.crc32(csv, continuing: crc)
                    try DataDirectory.writeAll(csv, to: descriptors.csv, path: temporary.csv)
                    summary.consume(csv)
                }
            }
        }
        guard inflater.produced == length, crc == expected else {
            throw CoordinatorError.storage("\(path) no longer holds the rows accepted (\(inflater.produced) bytes, CRC-32 \(crc))")
        }
        self.crc = GzipJoin.combine(self.crc, crc, secondLength: length)
        bytes += length
    }

    /// Appends a range accepted with its rows inflated (a joined copy only): the segment to the
    /// gzip copy and the rows to the CSV as they are, each checked against what was accepted
    /// (the segment's CRC-32, the rows' length and CRC-32), and the range's summary to the result's.
    func append(rows rowsPath: String, segment segmentPath: String, crc expected: UInt32, length: Int64, accepted: AcceptedRange) throws {
        guard deflater == nil else { throw CoordinatorError.storage("a range appended to a result compressed as it is written") }
        try files.requireRoom(for: Int(clamping: length))
        let segmentCRC = try Self.copy(segmentPath, to: descriptors.gzip, path: temporary.gzip)
        let rowsCRC = try Self.copy(rowsPath, to: descriptors.csv, path: temporary.csv)
        guard segmentCRC.crc == accepted.segmentCRC, rowsCRC.length == length, rowsCRC.crc == expected else {
            throw CoordinatorError.storage("\(rowsPath) or \(segmentPath) no longer holds the rows accepted")
        }
        self.crc = GzipJoin.combine(self.crc, rowsCRC.crc, secondLength: length)
        bytes += length
        rangeSummaries.append(accepted.summary)
    }

    /// Copies a file's bytes to `fd` a chunk at a time; their length and CRC-32.
    private static func copy(_ source: String, to fd: Int32, path: String) throws -> (length: Int64, crc: UInt32) {
        guard let file = FileHandle(forReadingAtPath: source) else { throw CoordinatorError.storage("cannot read \(source)") }
        defer { try? file.close() }
        var (length, crc): (Int64, UInt32) = (0, 0)
        while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
            try DataDirectory.writeAll(chunk, to: fd, path: path)
            crc = chunk.withUnsafeBytes { GzipJoin.crc32($0, continuing: crc) }
            length += Int64(chunk.count)
        }
        return (length, crc)
    }

    /// Appends the bytes of the file at `path` (a range's rows), a chunk at a time.
    func append(contentsOf path: String) throws {
        guard let part = FileHandle(forReadingAtPath: path) else { throw CoordinatorError.storage("cannot read \(path)") }
        defer { try? part.close() }
        while let chunk = try part.read(upToCount: 1 << 20), !chunk.isEmpty { try append(Array(chunk)) }
    }

    /// Ends the gzip stream, flushes both files, writes the summary and renames the files into
    /// place.
    func finish() throws {
        let (fd, path) = (descriptors.gzip, temporary.gzip)
        if let deflater {
            try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { output throws in
                try DataDirectory.writeAll(output, to: fd, path: path)
            }
        } else {
            try DataDirectory.writeAll(GzipJoin.finalBlock + GzipJoin.trailer(crc: crc, length: bytes), to: fd, path: path)
        }
        for (fd, path) in [(descriptors.csv, temporary.csv), (descriptors.gzip, temporary.gzip)] { try DataDirectory.sync(fd, path: path) }
        close(descriptors.csv)
        close(descriptors.gzip)
        descriptors = (-1, -1)
        // The summary first: a result in place always has its summary.
        var whole = summary.finish()
        for range in rangeSummaries { whole.merge(range) }
        try files.writeSummary(whole, of: jobId)
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
