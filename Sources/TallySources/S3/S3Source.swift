import AsyncHTTPClient
import Foundation
import NIOCore
import TallyFormats
import TallyReport

/// Logs in an S3-compatible bucket under a prefix, listed with ListObjectsV2 and read with
/// SigV4-signed `GET`s.
///
/// Requests use path-style URLs (`endpoint/bucket/key`), which AWS, MinIO, Ceph, R2 and moto
/// all accept and which need no DNS per bucket. Object names are keys relative to the prefix,
/// so times in key names reach the planner just as they do for the other sources.
public struct S3Source: LogSource {
    /// The bucket's folder the logs are in, and the signed requests to it.
    let folder: S3Bucket

    /// The bucket.
    public var bucket: String { folder.name }
    /// The folder listed: empty, or ending with `/`.
    public var prefix: String { folder.prefix }
    /// Scheme, host, optional port and optional base path; no trailing `/`.
    public var endpoint: String { folder.endpoint }
    /// Scheme and authority of `endpoint`, where requests go.
    var origin: String { folder.origin }
    /// The endpoint's path (unencoded, no trailing `/`), signed as part of every request's path.
    var basePath: String { folder.basePath }
    /// The region requests are signed for.
    public var region: String { folder.region }
    /// Signs every request.
    var signer: SigV4Signer { folder.signer }
    /// The `Host` header: what the signature covers must be what is sent.
    var hostHeader: String { folder.hostHeader }

    /// `s3://bucket/prefix/`, for messages.
    public var location: String { folder.location }

    /// A source for `prefix` (treated as a folder) in `bucket`; `endpoint` defaults to AWS's
    /// regional endpoint.
    public init(
        bucket: String, prefix: String, endpoint: String?, region: String, credentials: S3Credentials, client: SourceHTTPClient
    ) throws {
        folder = try S3Bucket(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, credentials: credentials, client: client)
    }

    /// A source for an `s3://bucket/optional/prefix` URL, configured from `environment` as
    /// `S3Bucket(url:)` says.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment, client: SourceHTTPClient) throws {
        folder = try S3Bucket(url: url, environment: environment, client: client)
    }

    /// Every object under the prefix that `format` reads, following ListObjectsV2 pages; names
    /// are relative to the prefix, sorted.
    public func list(format: LogFormat) async throws -> [LogObject] {
        var objects: [LogObject] = []
        var token: String?
        repeat {
            let page = try await folder.listPage(continuationToken: token)
            for entry in page.entries {
                guard let name = Self.objectName(key: entry.key, prefix: prefix), format.reads(objectNamed: name) else { continue }
                objects.append(LogObject(name: name, size: entry.size, version: entry.version))
            }
            token = page.isTruncated ? page.nextContinuationToken : nil
        } while token != nil
        return objects.sorted { $0.name < $1.name }
    }

    /// The name a listed key has in this source, or `nil` when it is skipped: outside the
    /// prefix, a folder marker (`…/`), or under a hidden component (`_…`, `.…`) below the prefix.
    static func objectName(key: String, prefix: String) -> String? {
        guard key.hasPrefix(prefix) else { return nil }
        let name = String(key.dropFirst(prefix.count))
        guard !name.isEmpty, !name.hasSuffix("/") else { return nil }
        if name.split(separator: "/").contains(where: { LogFormat.isHidden($0) }) { return nil }
        return name
    }

    /// Streams one object with a signed `GET`, chunk by chunk as it arrives.
    public func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let response = try await folder.get(object.name)
        try await response.stream(from: folder.location(of: object.name), into: consume)
    }

    /// Streams an object from `offset` on with a signed ranged `GET`.
    public func read(_ object: LogObject, from offset: Int64, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let response = try await folder.get(object.name, from: offset)
        var skip = response.status.code == 206 ? 0 : offset
        try await response.stream(from: folder.location(of: object.name)) { chunk in try Self.skipping(&skip, chunk, consume) }
    }
}
