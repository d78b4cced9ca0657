import CIsal

/// Streaming gunzip over Intel ISA-L (`isal_inflate`), accepting concatenated gzip members (as
/// `gzip -c a b` writes) and checking each member's CRC-32 and length.
///
/// ISA-L rather than zlib because inflating is the largest single cost of reading a gzip log:
/// ISA-L's inflate runs at about twice zlib's speed on the same bytes (docs/performance.md).
/// Its state (about 80 KB) is allocated once per object.
final class GzipInflater {
    private let state: UnsafeMutablePointer<inflate_state>
    /// Whether the last member seen so far was read to its end.
    private(set) var atMemberEnd = false
    /// Compressed bytes consumed so far, for error messages.
    private(set) var totalIn: Int64 = 0

    init() {
        state = .allocate(capacity: 1)
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP)
    }

    deinit {
        state.deallocate()
    }

    /// Inflates as much of `input` as fits into `output`; returns the bytes consumed and produced.
    ///
    /// Output can remain buffered inside the inflater after all input is consumed, so a caller
    /// whose `output` came back full must call again (with empty input if need be).
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, object: String) throws -> (consumed: Int, produced: Int) {
        guard !output.isEmpty else { return (0, 0) }
        if atMemberEnd {
            guard !input.isEmpty else { return (0, 0) }
            // More bytes after a complete member: the next member of a multi-member file.
            isal_inflate_reset(state)
            state.pointee.crc_flag = UInt32(ISAL_GZIP)
            atMemberEnd = false
        }
        let availIn = UInt32(min(input.count, Int(UInt32.max)))
        let availOut = UInt32(min(output.count, Int(UInt32.max)))
        // Never a null input pointer, even with nothing to read: ISA-L may copy zero bytes from it.
        let inputStart = input.baseAddress ?? UnsafeRawPointer(output.baseAddress!)
        state.pointee.next_in = UnsafeMutablePointer(mutating: inputStart.assumingMemoryBound(to: UInt8.self))
        state.pointee.avail_in = availIn
        state.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_out = availOut
        let status = isal_inflate(state)
        let consumed = Int(availIn - state.pointee.avail_in)
        let produced = Int(availOut - state.pointee.avail_out)
        totalIn += Int64(consumed)
        guard status >= 0 else {
            throw LogReadError(kind: .corruptGzip, detail: "\(Self.describe(status)) near compressed byte \(totalIn)", object: object)
        }
        if state.pointee.block_state == ISAL_BLOCK_FINISH { atMemberEnd = true }
        return (consumed, produced)
    }

    private static func describe(_ status: Int32) -> String {
        switch status {
        case ISAL_INVALID_BLOCK: return "invalid deflate block"
        case ISAL_INVALID_SYMBOL: return "invalid deflate symbol"
        case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance"
        case ISAL_INVALID_WRAPPER: return "invalid gzip header"
        case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method"
        case ISAL_INCORRECT_CHECKSUM: return "CRC-32 or length check failed"
        default: return "inflate error \(status)"
        }
    }
}
