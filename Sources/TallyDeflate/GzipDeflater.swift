import CZlib

/// Streaming compression with zlib's `deflate`: gzip (the coordinator's compressed result copy,
/// the sample generator's `.gz` files), or raw DEFLATE segments that `GzipJoin` joins into one
/// gzip member (a merge task's rows, compressed on the worker).
///
/// Owned by one thread at a time; a stream is ended once, by `finish` or, for a segment, by a
/// sync flush.
public final class GzipDeflater {
    /// What the compressed bytes are wrapped in.
    public enum Wrapper: Sendable {
        /// A gzip member (RFC 1952): header, DEFLATE stream, CRC-32 and length.
        case gzip
        /// A bare DEFLATE stream (RFC 1951), to be joined with others.
        case raw
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutablePointer<UInt8>
    private let outputCapacity = 1 << 18
    private var ended = false

    /// A deflater at `level` (1 fastest … 9 smallest).
    public init(level: Int32, wrapper: Wrapper = .gzip) throws(DeflateError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let windowBits: Int32 = wrapper == .gzip ? 15 + 16 : -15
        let rc = deflateInit2_(
            stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw DeflateError(reason: "deflateInit2 failed (\(rc))")
        }
        output = .allocate(capacity: outputCapacity)
    }

    deinit {
        if !ended { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        output.deallocate()
    }

    /// Compresses `input`, handing compressed bytes to `write` as they are produced; with
    /// `finish`, also ends the stream (no more input may follow); with `syncFlush`, ends a raw
    /// segment on a byte boundary without a final block, so that `GzipJoin` can append to it.
    public func compress<E: Error>(
        _ input: UnsafeRawBufferPointer, finish: Bool = false, syncFlush: Bool = false,
        into write: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws {
        guard !ended else { throw DeflateError(reason: "the gzip stream is already finished") }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        let flush = finish ? Z_FINISH : syncFlush ? Z_SYNC_FLUSH : Z_NO_FLUSH
        while true {
            stream.pointee.next_out = output
            stream.pointee.avail_out = UInt32(outputCapacity)
            let rc = deflate(stream, flush)
            guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else { throw DeflateError(reason: "deflate failed (\(rc))") }
            let produced = outputCapacity - Int(stream.pointee.avail_out)
            if produced > 0 { try write(UnsafeRawBufferPointer(start: output, count: produced)) }
            if finish {
                if rc == Z_STREAM_END { break }
            } else if stream.pointee.avail_out != 0 {
                break
            }
        }
        if finish || syncFlush {
            deflateEnd(stream)
            ended = true
        }
    }

    /// The gzip of `bytes`, in one call.
    public static func gzip(_ bytes: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        let deflater = try GzipDeflater(level: level)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 4 + 64)
        try bytes.withUnsafeBytes { input in
            try deflater.compress(input, finish: true) { out.append(contentsOf: $0) }
        }
        return out
    }
}

/// zlib refused to compress.
public struct DeflateError: Error, CustomStringConvertible, Sendable {
    /// What zlib said.
    public var reason: String
    public var description: String { "gzip: \(reason)" }
}
