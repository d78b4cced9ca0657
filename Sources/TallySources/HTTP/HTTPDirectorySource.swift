import AsyncHTTPClient
import Foundation
import NIOCore
import TallyFormats
import TallyReport

/// Logs in a directory tree served over HTTP by nginx with `autoindex on; autoindex_format json;`.
///
/// Listings are walked recursively (a few folders at a time); objects are streamed, never held
/// whole in memory.
public struct HTTPDirectorySource: LogSource {
    /// The root URL, always ending with `/`.
    public let root: String
    /// The HTTP client of the source's owner.
    let client: SourceHTTPClient
    public var location: String { root }

    /// How many folder listings are fetched at once.
    static let listingConcurrency = 8
    /// Largest listing accepted for one folder.
    static let maximumListingBytes = 64 << 20

    /// A source rooted at `url`; a missing trailing slash is added.
    public init(url: String, client: SourceHTTPClient) throws {
        self.client = client
        guard let parsed = URL(string: url), parsed.host != nil else {
            throw SourceError(.invalidLocation, location: url, detail: "not a valid URL")
        }
        root = url.hasSuffix("/") ? url : url + "/"
    }

    private struct ListingEntry: Decodable {
        var name: String
        var type: String
        var size: Int64?
        /// Modification time as nginx writes it (`Wed, 02 Dec 2026 17:00:00 GMT`).
        var mtime: String?
    }

    public func list(format: LogFormat) async throws -> [LogObject] {
        var objects: [LogObject] = []
        var pending: [String] = [""]
        while !pending.isEmpty {
            let batch = Array(pending.prefix(Self.listingConcurrency))
            pending.removeFirst(batch.count)
            let listings = try await withThrowingTaskGroup(of: (String, [ListingEntry]).self) { group in
                for folder in batch {
                    group.addTask { (folder, try await self.listing(of: folder)) }
                }
                var results: [(String, [ListingEntry])] = []
                for try await result in group { results.append(result) }
                return results
            }
            for (folder, entries) in listings {
                for entry in entries where !LogFormat.isHidden(entry.name) && !entry.name.contains("/") {
                    let name = folder + entry.name
                    if entry.type == "directory" {
                        pending.append(name + "/")
                    } else if entry.type == "file", format.reads(objectNamed: entry.name) {
                        objects.append(LogObject(name: name, size: entry.size ?? 0, version: entry.mtime))
                    }
                }
            }
        }
        return objects.sorted { $0.name < $1.name }
    }

    private func listing(of folder: String) async throws -> [ListingEntry] {
        let url = root + Self.escapePath(folder)
        let response = try await get(url)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.maximumListingBytes)
        } catch {
            throw SourceError(.unreachable, location: url, detail: "listing could not be read: \(error)")
        }
        do {
            return try JSONDecoder().decode([ListingEntry].self, from: Data(body.readableBytesView))
        } catch {
            throw SourceError(.invalidListing, location: url, detail: "not an nginx JSON autoindex (autoindex_format json) listing")
        }
    }

    private func get(_ url: String, from offset: Int64 = 0) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, location: url)
        } catch {
            throw SourceError(.unreachable, location: url, detail: "cannot connect: \(error)")
        }
        switch response.status.code {
        case 200..<300: return response
        case 404: throw SourceError(.notFound, location: url, detail: "HTTP 404 Not Found")
        default:
            throw SourceError(
                .httpStatus, location: url, detail: "HTTP \(response.status.code) \(response.status.reasonPhrase)",
                status: Int(response.status.code), retryAfterSeconds: SourceError.retryAfter(response.headers.first(name: "Retry-After")))
        }
    }

    public func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let url = root + Self.escapePath(object.name)
        let response = try await get(url)
        try await response.stream(from: url, into: consume)
    }

    public func read(_ object: LogObject, from offset: Int64, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let url = root + Self.escapePath(object.name)
        let response = try await get(url, from: offset)
        var skip = response.status.code == 206 ? 0 : offset
        try await response.stream(from: url) { chunk in try Self.skipping(&skip, chunk, consume) }
    }

    /// Percent-encodes each path segment (autoindex names are raw: spaces, `#`, `?`, `%`, UTF-8).
    static func escapePath(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%;")
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }
            .joined(separator: "/")
    }
}
