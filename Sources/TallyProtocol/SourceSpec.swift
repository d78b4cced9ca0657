import Foundation
import TallyFormats
import TallySources

/// A configured log source as the coordinator sends it to workers with each lease: where the
/// logs are and how to read them. Credentials never travel; workers take S3 credentials from
/// their own environment.
public struct SourceSpec: Codable, Sendable, Equatable {
    /// `http`, `s3` or `file`.
    public var kind: String
    /// `http(s)://…/`, `s3://bucket/prefix` or a path / `file://` URL.
    public var url: String
    /// Log format of the objects.
    public var format: LogFormat
    /// S3 endpoint (`https://…`), for S3-compatible servers.
    public var endpoint: String?
    /// S3 region.
    public var region: String?

    /// A source specification.
    public init(kind: String, url: String, format: LogFormat = .auto, endpoint: String? = nil, region: String? = nil) {
        self.kind = kind
        self.url = url
        self.format = format
        self.endpoint = endpoint
        self.region = region
    }

    /// The kinds a source may have.
    public static let kinds = ["http", "s3", "file"]

    /// Opens the source, with this process's environment (S3 credentials) and the spec's
    /// endpoint and region taking precedence over the environment's.
    public func open(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any LogSource {
        var environment = environment
        if let endpoint { environment["AWS_ENDPOINT_URL"] = endpoint; environment["AWS_ENDPOINT_URL_S3"] = endpoint }
        if let region { environment["AWS_REGION"] = region }
        return try LogSources.open(url, environment: environment)
    }
}
