/// A failure of a log source as a whole: it cannot be listed or an object cannot be read.
public struct SourceError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure, for retry decisions.
    public enum Kind: String, Sendable {
        /// The location is not a valid source (bad URL, unsupported scheme).
        case invalidLocation = "invalid_location"
        /// The server or path could not be reached (connection refused, DNS, timeout).
        case unreachable
        /// The path or object does not exist.
        case notFound = "not_found"
        /// The server answered with an error status.
        case httpStatus = "http_status"
        /// A directory listing could not be understood.
        case invalidListing = "invalid_listing"
        /// A local read failed.
        case io
    }

    /// What kind of failure.
    public var kind: Kind
    /// The URL or path concerned.
    public var location: String
    /// Details (status code, system error).
    public var detail: String

    /// A failure of `kind` at `location`.
    public init(_ kind: Kind, location: String, detail: String) {
        self.kind = kind
        self.location = location
        self.detail = detail
    }

    /// Whether trying again may help (server errors and network trouble, not a missing path).
    public var isTransient: Bool {
        switch kind {
        case .unreachable, .httpStatus, .io: return true
        case .invalidLocation, .notFound, .invalidListing: return false
        }
    }

    public var description: String { "\(location): \(detail)" }
}
