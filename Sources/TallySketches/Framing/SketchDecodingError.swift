/// Why bytes could not be decoded into a sketch or frame, and where.
///
/// Decoders throw this instead of trapping on anything a file can contain: a short read, a
/// foreign file, a newer format, bit rot, or a structurally valid frame holding impossible values.
public struct SketchDecodingError: Error, CustomStringConvertible, Equatable {
    /// The kind of failure.
    public enum Reason: Sendable, Equatable {
        /// The input ended before a complete value could be read.
        case truncated
        /// The input does not start with the expected magic bytes: it is some other kind of file.
        case badMagic
        /// The frame carries a format version this build cannot read.
        case unsupportedVersion(UInt8)
        /// The stored checksum does not match the content: the bytes were corrupted.
        case checksumMismatch
        /// A value was read completely but is not allowed here; the message says which and why.
        case invalidValue(String)
    }

    /// The kind of failure.
    public var reason: Reason

    /// Byte offset into the decoded input where the offending value starts, when known.
    public var offset: Int?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - reason: The kind of failure.
    ///   - offset: Where in the input the offending value starts, when known.
    public init(_ reason: Reason, offset: Int? = nil) {
        self.reason = reason
        self.offset = offset
    }

    /// A one-line explanation suitable for a log line, e.g.
    /// `sketch decoding failed at byte 17: input is truncated`.
    public var description: String {
        let location = offset.map { " at byte \($0)" } ?? ""
        let detail: String
        switch reason {
        case .truncated:
            detail = "input is truncated"
        case .badMagic:
            detail = "unrecognised format (bad magic bytes)"
        case .unsupportedVersion(let version):
            detail = "unsupported format version \(version)"
        case .checksumMismatch:
            detail = "checksum mismatch (data is corrupted)"
        case .invalidValue(let message):
            detail = "invalid value: \(message)"
        }
        return "sketch decoding failed\(location): \(detail)"
    }
}
