import Foundation

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
        /// An object's body ended before its listed size (or its `Content-Length`), or ran past it:
        /// a connection cut short without an error, or an object rewritten while read.
        case truncated
    }

    /// What kind of failure.
    public var kind: Kind
    /// The URL or path concerned.
    public var location: String
    /// Details (status code, system error).
    public var detail: String
    /// The HTTP status, for `httpStatus`.
    public var status: Int?
    /// How long the server asked to wait before trying again (`Retry-After`), in seconds.
    public var retryAfterSeconds: Double?

    /// A failure of `kind` at `location`.
    public init(_ kind: Kind, location: String, detail: String, status: Int? = nil, retryAfterSeconds: Double? = nil) {
        self.kind = kind
        self.location = location
        self.detail = detail
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Whether trying again may help: network trouble, a body cut short, server errors, `429`
    /// and `408` — not a missing object, a refused credential (`401`, `403`) or a bad request.
    public var isTransient: Bool {
        switch kind {
        case .unreachable, .io, .truncated: return true
        case .httpStatus: return status.map { $0 >= 500 || $0 == 429 || $0 == 408 } ?? true
        case .invalidLocation, .notFound, .invalidListing: return false
        }
    }

    /// Seconds from a `Retry-After` header: a number of seconds (an HTTP date is not honoured).
    public static func retryAfter(_ header: String?) -> Double? {
        guard let header, let seconds = Double(header.trimmingCharacters(in: .whitespaces)), seconds >= 0 else { return nil }
        return min(seconds, 3600)
    }

    public var description: String { "\(location): \(detail)" }
}
