import Foundation

/// How a source is reached, decided by its location's scheme.
public enum SourceKind: String, Sendable, Codable, CaseIterable {
    /// An `http(s)://` folder served by nginx with `autoindex_format json`.
    case http
    /// An `s3://bucket/prefix` URL.
    case s3
    /// A local path or `file://` URL.
    case file

    /// The kind a location names; unknown schemes are refused.
    public init(location: String) throws(SourceError) {
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            self = .http
        } else if location.hasPrefix("s3://") {
            self = .s3
        } else if location.hasPrefix("file://") || !location.contains("://") {
            self = .file
        } else {
            throw SourceError(
                .invalidLocation, location: location,
                detail: "unsupported source scheme (use a path, file://, http://, https:// or s3://)")
        }
    }
}

/// Where a source's logs are: its URL and, for S3-compatible servers, the endpoint and region
/// that take precedence over the process environment's.
public struct SourceAddress: Sendable, Equatable {
    /// How it is reached.
    public var kind: SourceKind
    /// `http(s)://…/`, `s3://bucket/prefix`, a path or a `file://` URL.
    public var url: String
    /// S3 endpoint (`https://…`).
    public var endpoint: String?
    /// S3 region.
    public var region: String?

    /// A location whose kind is read from `url`.
    public init(url: String, endpoint: String? = nil, region: String? = nil) throws(SourceError) {
        self.init(kind: try SourceKind(location: url), url: url, endpoint: endpoint, region: region)
    }

    /// A location of a known kind.
    public init(kind: SourceKind, url: String, endpoint: String? = nil, region: String? = nil) {
        self.kind = kind
        self.url = url
        self.endpoint = endpoint
        self.region = region
    }

    /// The same location with a relative local path made absolute against `directory`, so that
    /// processes started elsewhere (workers) read the same folder.
    public func absolute(from directory: String = FileManager.default.currentDirectoryPath) -> SourceAddress {
        guard kind == .file, !url.hasPrefix("file://"), !url.hasPrefix("/") else { return self }
        var copy = self
        copy.url = directory + "/" + url
        return copy
    }
}
