/// A configured log source as the coordinator sends it to workers with each lease: where the
/// logs are and how to read them. Credentials never travel; workers take S3 credentials from
/// their own environment.
public struct SourceSpec: Codable, Sendable, Equatable {
    /// `http`, `s3` or `file`.
    public var kind: String
    /// `http(s)://…/`, `s3://bucket/prefix` or a path / `file://` URL.
    public var url: String
    /// Log format of the objects: `auto`, `twingate-csv`, `twingate-s3` or `twingate-analytics`.
    public var format: String
    /// S3 endpoint (`https://…`), for S3-compatible servers.
    public var endpoint: String?
    /// S3 region.
    public var region: String?

    /// A source specification.
    public init(kind: String, url: String, format: String, endpoint: String? = nil, region: String? = nil) {
        self.kind = kind
        self.url = url
        self.format = format
        self.endpoint = endpoint
        self.region = region
    }
}
