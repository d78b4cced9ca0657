/// A failure to read an object as a whole (as opposed to a malformed line, which is skipped).
public struct LogReadError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Kind: String, Sendable {
        /// The gzip data is not valid.
        case corruptGzip = "corrupt_gzip"
        /// The gzip stream ended before its last member was complete (a cut-short download).
        case truncatedGzip = "truncated_gzip"
        /// A single line exceeded the reader's limit.
        case lineTooLong = "line_too_long"
    }

    /// What went wrong.
    public var kind: Kind
    /// Human-readable context (position, zlib message).
    public var detail: String
    /// The object being read, when known.
    public var object: String?

    /// An error of `kind` with context.
    public init(kind: Kind, detail: String, object: String? = nil) {
        self.kind = kind
        self.detail = detail
        self.object = object
    }

    public var description: String {
        let what: String
        switch kind {
        case .corruptGzip: what = "corrupt gzip data"
        case .truncatedGzip: what = "gzip stream cut short"
        case .lineTooLong: what = "line too long"
        }
        return (object.map { "\($0): " } ?? "") + what + (detail.isEmpty ? "" : " (\(detail))")
    }
}
