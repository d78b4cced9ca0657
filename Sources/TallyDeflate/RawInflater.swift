import CZlib

/// Streaming inflate of a raw DEFLATE segment (zlib), bounded: the coordinator reads a merge
/// task's compressed rows back to check them and to write the CSV, and a segment that would
/// inflate past `limit` bytes (a compression bomb) is refused before it is written anywhere.
public final class RawInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutablePointer<UInt8>
    private let outputCapacity = 1 << 18
    private let limit: Int64
    /// Bytes produced so far.
    public private(set) var produced: Int64 = 0

    /// An inflater that refuses to produce more than `limit` bytes.
    public init(limit: Int64) throws(DeflateError) {
        self.limit = limit
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = inflateInit2_(stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw DeflateError(reason: "inflateInit2 failed (\(rc))")
        }
        output = .allocate(capacity: outputCapacity)
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        output.deallocate()
    }

    /// Inflates `input`, handing the bytes to `write` as they come. A final block (a segment
    /// must not have one), bytes that are not DEFLATE, or output past the limit throw.
    public func inflate(_ input: UnsafeRawBufferPointer, into write: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < input.count {
            let count = min(input.count - offset, Int(UInt32.max))
            let ended = try step(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + count)]), into: write)
            guard !ended else { throw DeflateError(reason: "a final block inside a segment") }
            offset += count
        }
    }

    /// Checks that the segment inflated so far ended on a block boundary: an empty final block
    /// after it must end the stream there (a segment cut inside a block would not), so that
    /// `GzipJoin` can append the next one.
    public func endSegment() throws {
        let ended = try GzipJoin.finalBlock.withUnsafeBytes {
            try step($0, into: { _ in throw DeflateError(reason: "bytes after the segment's last block") })
        }
        guard ended, stream.pointee.avail_in == 0 else { throw DeflateError(reason: "the segment does not end on a block boundary") }
    }

    /// Inflates all of `input`; whether the stream ended.
    private func step(_ input: UnsafeRawBufferPointer, into write: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        while true {
            stream.pointee.next_out = output
            stream.pointee.avail_out = UInt32(outputCapacity)
            let rc = CZlib.inflate(stream, Z_NO_FLUSH)
            let count = outputCapacity - Int(stream.pointee.avail_out)
            produced += Int64(count)
            guard produced <= limit else { throw DeflateError(reason: "inflates to more than \(limit) bytes") }
            if count > 0 { try write(UnsafeRawBufferPointer(start: output, count: count)) }
            if rc == Z_STREAM_END { return true }
            guard rc == Z_OK || rc == Z_BUF_ERROR else { throw DeflateError(reason: "not a DEFLATE stream (\(rc))") }
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return false }
            if rc == Z_BUF_ERROR { return false }
        }
    }
}
