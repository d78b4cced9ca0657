import Foundation
import TallyFormats

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
}

/// Opens the source a location names: an `http(s)://` URL of an nginx JSON autoindex, an
/// `s3://bucket/prefix` URL, a `file://` URL, or a local path.
public enum LogSources {
    /// The source for `location`, or an error naming what is wrong with it.
    ///
    /// `environment` supplies S3 credentials, endpoint and region (`AWS_*`).
    public static func open(_ location: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any LogSource {
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            return try HTTPDirectorySource(url: location)
        }
        if location.hasPrefix("s3://") {
            return try S3Source(url: location, environment: environment)
        }
        if location.hasPrefix("file://") {
            return LocalDirectorySource(path: String(location.dropFirst("file://".count)))
        }
        if location.contains("://") {
            throw SourceError(.invalidLocation, location: location, detail: "unsupported source scheme (use a path, file://, http://, https:// or s3://)")
        }
        return LocalDirectorySource(path: location)
    }
}
