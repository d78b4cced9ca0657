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
    /// The bucket.
    public let bucket: String
    /// The folder listed: empty, or ending with `/`.
    public let prefix: String
    /// Scheme, host, optional port and optional base path; no trailing `/`.
    public let endpoint: String
    /// Scheme and authority of `endpoint`, where requests go.
    let origin: String
    /// The endpoint's path (unencoded, no trailing `/`), signed as part of every request's path.
    let basePath: String
    /// The region requests are signed for.
    public let region: String
    /// Signs every request.
    let signer: SigV4Signer
    /// The `Host` header: what the signature covers must be what is sent.
    let hostHeader: String
    /// The HTTP client of the source's owner.
    let client: SourceHTTPClient

    /// `s3://bucket/prefix/`, for messages.
    public var location: String { "s3://\(bucket)/\(prefix)" }

    /// Largest listing page or error body accepted.
    static let maximumResponseBytes = 64 << 20
    /// Keys per ListObjectsV2 page: S3's maximum, stated because some compatible servers default lower.
    static let pageSize = 1000

    /// A source for `prefix` (treated as a folder) in `bucket`; `endpoint` defaults to AWS's
    /// regional endpoint.
    public init(
        bucket: String, prefix: String, endpoint: String?, region: String, credentials: S3Credentials, client: SourceHTTPClient
    ) throws {
        self.client = client
        let location = "s3://\(bucket)/\(prefix)"
        guard !bucket.isEmpty, !bucket.contains("/") else {
            throw SourceError(.invalidLocation, location: location, detail: "no bucket name (write s3://BUCKET/PREFIX)")
        }
        guard !region.isEmpty else {
            throw SourceError(.invalidLocation, location: location, detail: "empty region (set AWS_REGION)")
        }
        var base = endpoint ?? "https://s3.\(region).amazonaws.com"
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw SourceError(
                .invalidLocation, location: location, detail: "S3 endpoint \(base) is not an http(s) URL (check AWS_ENDPOINT_URL)")
        }
        // An IPv6 literal keeps its brackets in Host; a default port is left out, as clients do.
        var hostHeader = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = url.port, port != (scheme == "https" ? 443 : 80) { hostHeader += ":\(port)" }
        var basePath = url.path
        while basePath.hasSuffix("/") { basePath.removeLast() }

        var folder = prefix
        while folder.hasPrefix("/") { folder.removeFirst() }
        if !folder.isEmpty, !folder.hasSuffix("/") { folder += "/" }

        self.bucket = bucket
        self.prefix = folder
        self.endpoint = base
        self.origin = scheme + "://" + hostHeader
        self.basePath = basePath
        self.region = region
        self.signer = SigV4Signer(credentials: credentials, region: region, service: "s3")
        self.hostHeader = hostHeader
    }

    /// A source for an `s3://bucket/optional/prefix` URL, configured from `environment`:
    /// credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; the
    /// endpoint from `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (default AWS); the region from
    /// `AWS_REGION` or `AWS_DEFAULT_REGION` (default `us-east-1`).
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment, client: SourceHTTPClient) throws {
        guard url.hasPrefix("s3://") else {
            throw SourceError(.invalidLocation, location: url, detail: "not an s3:// URL")
        }
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count))
        func setting(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        let credentials: S3Credentials
        do {
            credentials = try S3Credentials.fromEnvironment(environment)
        } catch let error as SourceError {
            throw SourceError(error.kind, location: url, detail: error.detail)
        }
        try self.init(
            bucket: bucket, prefix: prefix,
            endpoint: setting("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
            region: setting("AWS_REGION", "AWS_DEFAULT_REGION") ?? "us-east-1",
            credentials: credentials, client: client
        )
    }

    /// Every object under the prefix that `format` reads, following ListObjectsV2 pages; names
    /// are relative to the prefix, sorted.
    public func list(format: LogFormat) async throws -> [LogObject] {
        var objects: [LogObject] = []
        var token: String?
        repeat {
            let page = try await listPage(continuationToken: token)
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

    private func listPage(continuationToken: String?) async throws -> S3ListObjectsResult {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("prefix", prefix), ("max-keys", String(Self.pageSize)),
        ]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await get(path: "/\(bucket)", query: query, location: location)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.maximumResponseBytes)
        } catch {
            throw SourceError(.unreachable, location: location, detail: "listing could not be read from \(endpoint): \(error)")
        }
        return try S3ListObjectsResult(xml: Data(body.readableBytesView), location: location)
    }

    /// Streams one object with a signed `GET`, chunk by chunk as it arrives.
    public func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let key = prefix + object.name
        let objectLocation = "s3://\(bucket)/\(key)"
        let response = try await get(path: "/\(bucket)/\(key)", query: [], location: objectLocation)
        try await response.stream(from: objectLocation, into: consume)
    }

    /// Streams an object from `offset` on with a signed ranged `GET`.
    public func read(_ object: LogObject, from offset: Int64, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let key = prefix + object.name
        let objectLocation = "s3://\(bucket)/\(key)"
        let response = try await get(path: "/\(bucket)/\(key)", query: [], location: objectLocation, from: offset)
        var skip = response.status.code == 206 ? 0 : offset
        try await response.stream(from: objectLocation) { chunk in try Self.skipping(&skip, chunk, consume) }
    }

    /// A signed `GET`; any answer but 2xx becomes the `SourceError` its S3 error code means.
    private func get(path: String, query: [(name: String, value: String)], location: String, from offset: Int64 = 0) async throws
        -> HTTPClientResponse
    {
        let signed = signer.sign(
            method: "GET", path: basePath + path, query: query,
            headers: [("host", hostHeader), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash)],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Date()
        )
        var request = HTTPClientRequest(
            url: origin + signed.encodedPath + (signed.encodedQuery.isEmpty ? "" : "?" + signed.encodedQuery))
        for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
        // Left out of the signature, which names only the headers it signs.
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, location: location)
        } catch {
            throw SourceError(.unreachable, location: location, detail: "cannot connect to \(endpoint): \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            // Error bodies are small XML documents; a broken one still yields the status line.
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data($0.readableBytesView) } ?? Data()
            throw S3ErrorResponse.sourceError(
                status: response.status.code, reason: response.status.reasonPhrase, body: body,
                bucketRegion: response.headers.first(name: "x-amz-bucket-region").flatMap { $0 == region ? nil : $0 },
                retryAfter: response.headers.first(name: "Retry-After"), location: location)
        }
        return response
    }
}
