import Foundation
import TallyDeflate

/// One output file: plain, or gzip compressed through the shared streaming `GzipDeflater`.
/// Used by one thread at a time.
final class FileSink {
    let path: String
    private var fd: Int32
    private var deflater: GzipDeflater?
    /// Bytes written to the file so far.
    private(set) var written: Int64 = 0

    /// Drain the line buffer into the file once it holds at least this many bytes.
    static let flushThreshold = 1 << 20

    init(path: String, gzip: Bool, level: Int32 = GzipDeflater.fastest) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw SampleLogError(.createFile, path: path, reason: String(cString: strerror(errno)))
        }
        if gzip {
            do {
                deflater = try GzipDeflater(level: level)
            } catch {
                close(fd)
                fd = -1
                throw SampleLogError(.compression, path: path, reason: error.reason)
            }
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Writes the writer's contents when they exceed the flush threshold.
    @inline(__always)
    func drainIfFull(_ writer: inout LineWriter) throws {
        if writer.count >= FileSink.flushThreshold { try drain(&writer) }
    }

    /// Writes (compressing if needed) all of the writer's contents and empties it.
    func drain(_ writer: inout LineWriter) throws {
        if writer.count > 0 {
            try consume(writer.base, writer.count, finish: false)
        }
        writer.count = 0
    }

    /// Drains the writer, finishes the gzip stream and closes the file.
    func finish(_ writer: inout LineWriter) throws {
        if deflater != nil {
            try consume(writer.base, writer.count, finish: true)
            deflater = nil
        } else if writer.count > 0 {
            try writeAll(UnsafeRawBufferPointer(start: writer.base, count: writer.count))
        }
        writer.count = 0
        let rc = close(fd)
        fd = -1
        if rc != 0 {
            throw SampleLogError(.writeFile, path: path, reason: String(cString: strerror(errno)))
        }
    }

    private func consume(_ data: UnsafeMutablePointer<UInt8>, _ count: Int, finish: Bool) throws {
        let input = UnsafeRawBufferPointer(start: data, count: count)
        guard let deflater else {
            try writeAll(input)
            return
        }
        do {
            try deflater.compress(input, finish: finish) { try writeAll($0) }
        } catch let error as DeflateError {
            throw SampleLogError(.compression, path: path, reason: error.reason)
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SampleLogError(.writeFile, path: path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
        written += Int64(bytes.count)
    }
}
