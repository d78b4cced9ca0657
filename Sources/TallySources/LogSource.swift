import Foundation
import TallyFormats
import TallyReport

/// Where raw logs live: something that can list its objects and stream one.
public protocol LogSource: Sendable {
    /// The location as the user wrote it, for messages.
    var location: String { get }

    /// Every object the format reads, walked recursively, skipping names that start with `_`
    /// or `.`, sorted by name.
    func list(format: LogFormat) async throws -> [LogObject]

    /// Streams one object's raw bytes, in order, to `consume`; chunks are only valid during
    /// the call.
    func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws

    /// Streams one object's bytes from `offset` on (a hedged read's second request for the rest
    /// of an object, docs/design.md §3.3): a range request where the server takes one, else the
    /// whole object with its first `offset` bytes skipped.
    func read(_ object: LogObject, from offset: Int64, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws
}

extension LogSource {
    /// The whole object read, its first `offset` bytes skipped: for sources without ranges.
    public func read(_ object: LogObject, from offset: Int64, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        var skip = max(0, offset)
        try await read(object) { chunk in try Self.skipping(&skip, chunk, consume) }
    }

    /// Hands on what is left of `chunk` after `skip` more bytes (a body asked from an offset
    /// and served whole: a server that ignores `Range` answers `200` with everything).
    static func skipping(_ skip: inout Int64, _ chunk: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws -> Void)
        throws
    {
        guard skip < Int64(chunk.count) else {
            skip -= Int64(chunk.count)
            return
        }
        try consume(UnsafeRawBufferPointer(rebasing: chunk[Int(skip)...]))
        skip = 0
    }
}

/// Opens sources: the one place that turns a location into a `LogSource`.
public enum LogSources {
    /// The source at `location`, reading over `client` (its owner's). `environment` supplies S3
    /// credentials, and the endpoint and region (`AWS_*`) unless the location names them.
    public static func open(
        _ location: SourceAddress, client: SourceHTTPClient, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any LogSource {
        switch location.kind {
        case .http:
            return try HTTPDirectorySource(url: location.url, client: client)
        case .s3:
            var environment = environment
            if let endpoint = location.endpoint {
                environment["AWS_ENDPOINT_URL"] = endpoint
                environment["AWS_ENDPOINT_URL_S3"] = endpoint
            }
            if let region = location.region { environment["AWS_REGION"] = region }
            return try S3Source(url: location.url, environment: environment, client: client)
        case .file:
            let path = location.url.hasPrefix("file://") ? String(location.url.dropFirst("file://".count)) : location.url
            return LocalDirectorySource(path: path)
        }
    }

    /// The source a location string names (its kind read from the scheme).
    public static func open(
        _ location: String, client: SourceHTTPClient, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any LogSource {
        try open(SourceAddress(url: location), client: client, environment: environment)
    }
}
