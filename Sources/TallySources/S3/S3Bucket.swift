import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// A folder (`prefix`) of an S3-compatible bucket and SigV4-signed requests to it: what a log
/// source reads and what the coordinator's shared blobs read and write.
///
/// Requests use path-style URLs (`endpoint/bucket/key`), which AWS, MinIO, Ceph, R2 and moto
/// all accept and which need no DNS per bucket.
public struct S3Bucket: Sendable {
    /// The bucket.
    public let name: String
    /// The folder: empty, or ending with `/`.
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
    /// The HTTP client of the bucket's owner.
    let client: SourceHTTPClient

    /// `s3://bucket/prefix/`, for messages.
    public var location: String { "s3://\(name)/\(prefix)" }

    /// Largest listing page or error body accepted.
    static let maximumResponseBytes = 64 << 20
    /// Keys per ListObjectsV2 page: S3's maximum, stated because some compatible servers default lower.
    static let pageSize = 1000
    /// Bytes of a file read and sent at a time by `put`.
    static let uploadChunk = 1 << 20

    /// `prefix` (treated as a folder) in `bucket`; `endpoint` defaults to AWS's regional endpoint.
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

        self.name = bucket
        self.prefix = folder
        self.endpoint = base
        self.origin = scheme + "://" + hostHeader
        self.basePath = basePath
        self.region = region
        self.signer = SigV4Signer(credentials: credentials, region: region, service: "s3")
        self.hostHeader = hostHeader
    }

    /// The folder an `s3://bucket/optional/prefix` URL names, configured from `environment`:
    /// credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; the
    /// endpoint from `endpoint`, else `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (default AWS);
    /// the region from `region`, else `AWS_REGION` or `AWS_DEFAULT_REGION` (default `us-east-1`).
    public init(
        url: String, endpoint: String? = nil, region: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, client: SourceHTTPClient
    ) throws {
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
            endpoint: endpoint ?? setting("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
            region: region ?? setting("AWS_REGION", "AWS_DEFAULT_REGION") ?? "us-east-1",
            credentials: credentials, client: client
        )
    }

    /// Where `key` (relative to the prefix) is, for messages.
    public func location(of key: String) -> String { "s3://\(name)/\(prefix)\(key)" }

    // MARK: Reading

    /// One ListObjectsV2 page of the keys under `prefix + below`.
    func listPage(below: String = "", continuationToken: String?) async throws -> S3ListObjectsResult {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("prefix", prefix + below), ("max-keys", String(Self.pageSize)),
        ]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await send("GET", path: "/\(name)", query: query, location: location)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.maximumResponseBytes)
        } catch {
            throw SourceError(.unreachable, location: location, detail: "listing could not be read from \(endpoint): \(error)")
        }
        return try S3ListObjectsResult(xml: Data(body.readableBytesView), location: location)
    }

    /// Every key under `below` (relative to the prefix), relative to the prefix, following pages.
    public func keys(below: String) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            let page = try await listPage(below: below, continuationToken: token)
            keys += page.entries.compactMap { $0.key.hasPrefix(prefix) ? String($0.key.dropFirst(prefix.count)) : nil }
            token = page.isTruncated ? page.nextContinuationToken : nil
        } while token != nil
        return keys
    }

    /// A signed `GET` of `key` (relative to the prefix), from `offset` on.
    func get(_ key: String, from offset: Int64 = 0) async throws -> HTTPClientResponse {
        try await send(
            "GET", path: "/\(name)/\(prefix)\(key)", location: location(of: key),
            unsigned: offset > 0 ? [("Range", "bytes=\(offset)-")] : [])
    }

    /// Downloads `key` into a new file at `path` (through a temporary name, flushed, renamed
    /// into place); false when the bucket has no such key.
    public func download(_ key: String, to path: String) async throws -> Bool {
        let response: HTTPClientResponse
        do {
            response = try await get(key)
        } catch let error as SourceError where error.kind == .notFound {
            return false
        }
        let temporary = path + ".download-\(UUID().uuidString)"
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SourceError(.io, location: location(of: key), detail: "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        do {
            defer { close(fd) }
            try await response.stream(from: location(of: key)) { chunk in
                var offset = 0
                while offset < chunk.count {
                    let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else {
                        throw SourceError(.io, location: path, detail: "cannot write: \(String(cString: strerror(errno)))")
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0, rename(temporary, path) == 0 else {
                throw SourceError(.io, location: path, detail: "cannot install the download: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        return true
    }

    // MARK: Writing

    /// What `put` found.
    public enum PutOutcome: Sendable, Equatable {
        /// The object was written.
        case written
        /// `exclusive` and the key existed: nothing was written (S3's `412 Precondition Failed`).
        case existed
    }

    /// Uploads the file at `path` as `key` with one signed `PUT`, streamed a chunk at a time (off
    /// the cooperative pool). With `exclusive`, the `PUT` carries `If-None-Match: *`: a server
    /// that honours it keeps the first object written under a key.
    public func put(_ key: String, file path: String, exclusive: Bool) async throws -> PutOutcome {
        let objectLocation = location(of: key)
        let handle: FileHandle
        let size: UInt64
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            size = try handle.seekToEnd()
            try handle.seek(toOffset: 0)
        } catch {
            throw SourceError(.io, location: path, detail: "cannot read the file to upload: \(error)")
        }
        defer { try? handle.close() }
        var headers: [(name: String, value: String)] = [("host", hostHeader), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]
        if exclusive { headers.append(("if-none-match", "*")) }
        let body = HTTPClientRequest.Body.stream(FileChunks(handle: handle, chunk: Self.uploadChunk), length: .known(Int64(size)))
        do {
            let response = try await send(
                "PUT", path: "/\(name)/\(prefix)\(key)", location: objectLocation, signed: headers, payloadHash: "UNSIGNED-PAYLOAD",
                body: body)
            _ = try? await response.body.collect(upTo: 1 << 20)
            return .written
        } catch let error as SourceError where exclusive && error.status == 412 {
            return .existed
        }
    }

    /// Deletes `key`; a key already gone is no error.
    public func delete(_ key: String) async throws {
        do {
            let response = try await send("DELETE", path: "/\(name)/\(prefix)\(key)", location: location(of: key))
            _ = try? await response.body.collect(upTo: 1 << 20)
        } catch let error as SourceError where error.kind == .notFound {
            return
        }
    }

    // MARK: Requests

    /// A signed request; any answer but 2xx becomes the `SourceError` its S3 error code means.
    /// `unsigned` headers are sent but left out of the signature, which names only what it signs.
    func send(
        _ method: String, path: String, query: [(name: String, value: String)] = [], location: String,
        signed extra: [(name: String, value: String)]? = nil, payloadHash: String = SigV4Signer.emptyPayloadHash,
        unsigned: [(name: String, value: String)] = [], body: HTTPClientRequest.Body? = nil
    ) async throws -> HTTPClientResponse {
        let signed = signer.sign(
            method: method, path: basePath + path, query: query,
            headers: extra ?? [("host", hostHeader), ("x-amz-content-sha256", payloadHash)],
            payloadHash: payloadHash, date: Date()
        )
        var request = HTTPClientRequest(
            url: origin + signed.encodedPath + (signed.encodedQuery.isEmpty ? "" : "?" + signed.encodedQuery))
        request.method = .init(rawValue: method)
        for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
        for header in unsigned { request.headers.add(name: header.name, value: header.value) }
        if let body { request.body = body }
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

/// A file's bytes as chunks, read off the cooperative pool as the HTTP client asks for them.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let handle: FileHandle
    let chunk: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle
        let chunk: Int

        mutating func next() async throws -> ByteBuffer? {
            let (handle, chunk) = (self.handle, self.chunk)
            let data = try await NIOThreadPool.singleton.runIfActive { try handle.read(upToCount: chunk) }
            guard let data, !data.isEmpty else { return nil }
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle, chunk: chunk) }
}
