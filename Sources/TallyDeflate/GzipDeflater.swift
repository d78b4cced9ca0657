import CIsal

/// Streaming compression with ISA-L's `isal_deflate`: gzip (the coordinator's compressed result
/// copy, the sample generator's `.gz` files), or raw DEFLATE segments that `GzipJoin` joins into
/// one gzip member (a merge task's rows, compressed on the worker).
///
/// ISA-L rather than zlib: at its level 1 it compresses CSV several times as fast as zlib's level
/// 6, and zlib's deflate of the merge tasks' rows was a tenth of a many-users job's CPU
/// (docs/performance.md, "Hot paths").
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

    /// The fastest level, and the one every caller uses: ISA-L's 0 (no matching) to 3.
    public static let fastest: Int32 = 1
    /// The smallest output.
    public static let smallest: Int32 = 3

    private let stream: UnsafeMutablePointer<isal_zstream>
    private let levelBuffer: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutablePointer<UInt8>
    private let outputCapacity = 1 << 18
    private var ended = false

    /// A deflater at ISA-L's `level`, `fastest` (1) to `smallest` (3); 0 finds no matches.
    public init(level: Int32 = GzipDeflater.fastest, wrapper: Wrapper = .gzip) throws(DeflateError) {
        guard (0...3).contains(level) else { throw DeflateError(reason: "compression level \(level) is not 0 to 3") }
        stream = .allocate(capacity: 1)
        stream.initialize(to: isal_zstream())
        isal_deflate_init(stream)
        levelBuffer = .allocate(byteCount: Int(tally_isal_level_buffer_size(UInt32(level))), alignment: 16)
        stream.pointee.level = UInt32(level)
        stream.pointee.level_buf = levelBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.pointee.level_buf_size = UInt32(levelBuffer.count)
        stream.pointee.gzip_flag = UInt16(wrapper == .gzip ? IGZIP_GZIP : IGZIP_DEFLATE)
        output = .allocate(capacity: outputCapacity)
    }

    deinit {
        stream.deinitialize(count: 1)
        stream.deallocate()
        levelBuffer.deallocate()
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
        // ISA-L takes at most 4 GiB of input per call.
        var rest = input
        repeat {
            let piece = min(rest.count, Int(UInt32.max))
            let last = piece == rest.count
            try compressPiece(
                UnsafeRawBufferPointer(rebasing: rest[..<piece]), finish: finish && last, syncFlush: syncFlush && last, into: write)
            rest = UnsafeRawBufferPointer(rebasing: rest[piece...])
        } while !rest.isEmpty
        if finish || syncFlush { ended = true }
    }

    private func compressPiece<E: Error>(
        _ input: UnsafeRawBufferPointer, finish: Bool, syncFlush: Bool, into write: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        stream.pointee.end_of_stream = finish ? 1 : 0
        stream.pointee.flush = UInt16(finish || syncFlush ? SYNC_FLUSH : NO_FLUSH)
        while true {
            stream.pointee.next_out = output
            stream.pointee.avail_out = UInt32(outputCapacity)
            let rc = isal_deflate(stream)
            guard rc == COMP_OK else { throw DeflateError(reason: "isal_deflate failed (\(rc))") }
            let produced = outputCapacity - Int(stream.pointee.avail_out)
            if produced > 0 { try write(UnsafeRawBufferPointer(start: output, count: produced)) }
            // Input left, or output that filled the buffer, may hide more to come.
            if stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0 { continue }
            if finish {
                if stream.pointee.internal_state.state == ZSTATE_END { break }
            } else if !syncFlush || [ZSTATE_NEW_HDR, ZSTATE_TMP_NEW_HDR].contains(stream.pointee.internal_state.state) {
                break
            }
        }
    }

    /// The gzip of `bytes`, in one call.
    public static func gzip(_ bytes: [UInt8], level: Int32 = GzipDeflater.fastest) throws -> [UInt8] {
        let deflater = try GzipDeflater(level: level)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 4 + 64)
        try bytes.withUnsafeBytes { input in
            try deflater.compress(input, finish: true) { out.append(contentsOf: $0) }
        }
        return out
    }
}

/// The compressor refused.
public struct DeflateError: Error, CustomStringConvertible, Sendable {
    /// What it said.
    public var reason: String
    public var description: String { "gzip: \(reason)" }
}
