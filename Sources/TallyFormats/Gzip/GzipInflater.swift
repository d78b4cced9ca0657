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
    /// The last compressed bytes handed to ISA-L, across calls.
    private var recent: [UInt8] = []
    /// Bytes ISA-L gave back from an earlier call's input (the unread part of its bit buffer at
    /// a member's end): they are inflated again before the caller's next input.
    private var givenBack: [UInt8] = []

    /// Whether bytes given back by ISA-L still wait to be inflated.
    var hasPendingInput: Bool { !givenBack.isEmpty }

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
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, object: String) throws -> (
        consumed: Int, produced: Int
    ) {
        guard !output.isEmpty else { return (0, 0) }
        if !givenBack.isEmpty {
            // Given-back bytes precede the caller's input: inflate them first, consuming none of it.
            let pending = givenBack
            givenBack = []
            let (consumed, produced) = try pending.withUnsafeBytes { try inflateChunk($0, into: output, object: object) }
            if consumed < pending.count { givenBack = Array(pending[consumed...]) + givenBack }
            return (0, produced)
        }
        return try inflateChunk(input, into: output, object: object)
    }

    private func inflateChunk(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, object: String) throws -> (
        consumed: Int, produced: Int
    ) {
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
        // At a member's end ISA-L gives back the whole bytes left in its bit buffer, which may
        // have come from an earlier call's input: then none of this input counts as consumed,
        // and those earlier bytes (kept in `recent`) are inflated again first.
        var consumed = Int(availIn) - Int(state.pointee.avail_in)
        if consumed < 0 {
            guard -consumed <= recent.count else {
                throw LogReadError(
                    kind: .corruptGzip, detail: "inflate gave back more bytes than it read near compressed byte \(totalIn)", object: object)
            }
            givenBack = Array(recent.suffix(-consumed))
            recent.removeLast(-consumed)
            totalIn -= Int64(-consumed)
            consumed = 0
        } else if consumed > 0 {
            recent.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[max(0, consumed - 16)..<consumed]))
            if recent.count > 16 { recent.removeFirst(recent.count - 16) }
        }
        let produced = Int(availOut) - Int(state.pointee.avail_out)
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
