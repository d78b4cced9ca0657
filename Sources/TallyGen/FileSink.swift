import CZlib
import Foundation

/// One output file: plain, or gzip compressed through zlib's streaming `deflate`.
/// Used by one thread at a time.
final class FileSink {
    let path: String
    private var fd: Int32
    private var stream: UnsafeMutablePointer<z_stream>?
    private var outBuffer: UnsafeMutablePointer<UInt8>?
    private let outCapacity = 1 << 18
    /// Bytes written to the file so far.
    private(set) var written: Int64 = 0

    /// Drain the line buffer into the file once it holds at least this many bytes.
    static let flushThreshold = 1 << 20

    init(path: String, gzip: Bool, level: Int32 = 1) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw SampleLogError(.createFile, path: path, reason: String(cString: strerror(errno)))
        }
        if gzip {
            let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            s.initialize(to: z_stream())
            let rc = deflateInit2_(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            if rc != Z_OK {
                s.deinitialize(count: 1)
                s.deallocate()
                close(fd)
                fd = -1
                throw SampleLogError(.compression, path: path, reason: "deflateInit2 failed (\(rc))")
            }
            stream = s
            outBuffer = .allocate(capacity: outCapacity)
        }
    }

    deinit {
        release()
    }

    private func release() {
        if let s = stream {
            deflateEnd(s)
            s.deinitialize(count: 1)
            s.deallocate()
            stream = nil
        }
        outBuffer?.deallocate()
        outBuffer = nil
        if fd >= 0 {
            close(fd)
            fd = -1
        }
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
        if stream != nil {
            try consume(writer.base, writer.count, finish: true)
        } else if writer.count > 0 {
            try writeAll(writer.base, writer.count)
        }
        writer.count = 0
        if let s = stream {
            deflateEnd(s)
            s.deinitialize(count: 1)
            s.deallocate()
            stream = nil
        }
        let rc = close(fd)
        fd = -1
        if rc != 0 {
            throw SampleLogError(.writeFile, path: path, reason: String(cString: strerror(errno)))
        }
    }

    private func consume(_ data: UnsafeMutablePointer<UInt8>, _ count: Int, finish: Bool) throws {
        guard let s = stream, let out = outBuffer else {
            try writeAll(data, count)
            return
        }
        s.pointee.next_in = data
        s.pointee.avail_in = UInt32(count)
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        while true {
            s.pointee.next_out = out
            s.pointee.avail_out = UInt32(outCapacity)
            let rc = deflate(s, flush)
            if rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR {
                throw SampleLogError(.compression, path: path, reason: "deflate failed (\(rc))")
            }
            let produced = outCapacity - Int(s.pointee.avail_out)
            if produced > 0 { try writeAll(out, produced) }
            if finish {
                if rc == Z_STREAM_END { break }
            } else if s.pointee.avail_out != 0 {
                break
            }
        }
    }

    private func writeAll(_ data: UnsafeMutablePointer<UInt8>, _ count: Int) throws {
        var offset = 0
        while offset < count {
            let n = write(fd, data + offset, count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SampleLogError(.writeFile, path: path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
        written += Int64(count)
    }
}
