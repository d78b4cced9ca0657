import CZlib

/// Streaming gunzip over zlib, accepting concatenated gzip members (as `gzip -c a b` writes).
///
/// `z_stream` lives at a fixed heap address because zlib checks that its internal state still
/// points at the stream it was initialised with.
final class GzipInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    /// Whether the last member seen so far was read to its end.
    private(set) var atMemberEnd = false
    /// Compressed bytes consumed so far, for error messages.
    private(set) var totalIn: Int64 = 0

    init(object: String) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw LogReadError(kind: .corruptGzip, detail: "zlib could not start (status \(status))", object: object)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates as much of `input` as fits into `output`; returns the bytes consumed and produced.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, object: String) throws -> (consumed: Int, produced: Int) {
        guard !input.isEmpty, !output.isEmpty else { return (0, 0) }
        if atMemberEnd {
            // More bytes after a complete member: the next member of a multi-member file.
            inflateReset(stream)
            atMemberEnd = false
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(min(input.count, Int(UInt32.max)))
        stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = UInt32(min(output.count, Int(UInt32.max)))
        let availIn = stream.pointee.avail_in
        let availOut = stream.pointee.avail_out
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        let consumed = Int(availIn - stream.pointee.avail_in)
        let produced = Int(availOut - stream.pointee.avail_out)
        totalIn += Int64(consumed)
        switch status {
        case Z_OK, Z_BUF_ERROR:
            break
        case Z_STREAM_END:
            atMemberEnd = true
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
            throw LogReadError(kind: .corruptGzip, detail: "\(message) near compressed byte \(totalIn)", object: object)
        }
        return (consumed, produced)
    }
}
