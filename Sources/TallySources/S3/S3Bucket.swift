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
    /// into place, written off the cooperative pool); false when the bucket has no such key. A
    /// missing bucket is an error, not a missing key.
    public func download(_ key: String, to path: String) async throws -> Bool {
        let objectLocation = location(of: key)
        let response: HTTPClientResponse
        do {
            response = try await get(key)
        } catch let error as SourceError where error.kind == .notFound && !error.detail.contains("NoSuchBucket") {
            return false
        }
        let temporary = path + ".download-\(UUID().uuidString)"
        let file = try await NIOThreadPool.singleton.runIfActive { () throws -> FileHandle in
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
                let file = FileHandle(forWritingAtPath: temporary)
            else { throw SourceError(.io, location: temporary, detail: "cannot create the file to download into") }
            return file
        }
        do {
            var written: Int64 = 0
            try await response.streamBuffers(from: objectLocation) { chunk in
                written += Int64(chunk.readableBytes)
                try await NIOThreadPool.singleton.runIfActive { try file.write(contentsOf: Data(chunk.readableBytesView)) }
            }
            if let expected = response.headers.first(name: "Content-Length").flatMap(Int64.init), expected != written {
                throw SourceError(.truncated, location: objectLocation, detail: "\(written) of \(expected) bytes arrived")
            }
            try await NIOThreadPool.singleton.runIfActive {
                try file.synchronize()
                try file.close()
                guard rename(temporary, path) == 0 else {
                    throw SourceError(.io, location: path, detail: "cannot install the download: \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            try? file.close()
            unlink(temporary)
            throw error
        }
        return true
    }

    // MARK: Writing

    /// Uploads the file at `path` as `key` with one signed `PUT`, streamed a chunk at a time (off
    /// the cooperative pool). With `exclusive`, the `PUT` carries `If-None-Match: *`: a server
    /// that honours it keeps the first object written under a key, and a key taken is no error
    /// (S3's `412 Precondition Failed`: the object there stays).
    public func put(_ key: String, file path: String, exclusive: Bool) async throws {
        let objectLocation = location(of: key)
        let chunks: FileChunks
        do {
            chunks = try FileChunks(path: path, chunk: Self.uploadChunk)
        } catch {
            throw SourceError(.io, location: path, detail: "cannot read the file to upload: \(error)")
        }
        var headers: [(name: String, value: String)] = [("host", hostHeader), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]
        if exclusive { headers.append(("if-none-match", "*")) }
        do {
            // S3 answers once the whole body is in: the deadline grows with it, at 1 MiB/s at worst.
            let response = try await send(
                "PUT", path: "/\(name)/\(prefix)\(key)", location: objectLocation, signed: headers, payloadHash: "UNSIGNED-PAYLOAD",
                body: .stream(chunks, length: .known(chunks.size)), bodySeconds: chunks.size >> 20)
            _ = try? await response.body.collect(upTo: 1 << 20)
        } catch let error as SourceError where exclusive && error.status == 412 {
            return
        }
    }

    /// Deletes `key`; a key already gone is no error.
    public func delete(_ key: String) async throws {
        do {
            let response = try await send("DELETE", path: "/\(name)/\(prefix)\(key)", location: location(of: key))
            _ = try? await response.body.collect(upTo: 1 << 20)
        } catch let error as SourceError where error.kind == .notFound && !error.detail.contains("NoSuchBucket") {
            return
        }
    }

    // MARK: Requests

    /// A signed request; any answer but 2xx becomes the `SourceError` its S3 error code means.
    /// `unsigned` headers are sent but left out of the signature, which names only what it signs.
    func send(
        _ method: String, path: String, query: [(name: String, value: String)] = [], location: String,
        signed extra: [(name: String, value: String)]? = nil, payloadHash: String = SigV4Signer.emptyPayloadHash,
        unsigned: [(name: String, value: String)] = [], body: HTTPClientRequest.Body? = nil, bodySeconds: Int64 = 0
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
            response = try await client.execute(request, location: location, bodySeconds: bodySeconds)
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

/// A file's bytes as chunks, read off the cooperative pool as the HTTP client asks for them. The
/// file is closed when the last reference goes, so a read still running when the request ended
/// early never meets a closed handle.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    /// The open file, closed at `deinit`.
    final class OpenFile: Sendable {
        let handle: FileHandle
        init(_ handle: FileHandle) { self.handle = handle }
        deinit { try? handle.close() }
    }

    let file: OpenFile
    let chunk: Int
    /// The file's size when opened.
    let size: Int64

    init(path: String, chunk: Int) throws {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        file = OpenFile(handle)
        size = Int64(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        self.chunk = chunk
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: OpenFile
        let chunk: Int

        mutating func next() async throws -> ByteBuffer? {
            let (file, chunk) = (self.file, self.chunk)
            let data = try await NIOThreadPool.singleton.runIfActive { try file.handle.read(upToCount: chunk) }
            guard let data, !data.isEmpty else { return nil }
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(file: file, chunk: chunk) }
}
