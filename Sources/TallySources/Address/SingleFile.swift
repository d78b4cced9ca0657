import Foundation
import TallyReport

/// One whole file from a local path, `file://` or `http(s)://` URL: how the coordinator reads a
/// user directory. Read through the sources' own readers (their deadlines and the local reader's
/// thread pool), and never more than `limit` bytes.
public enum SingleFile {
    /// The file's bytes; a file larger than `limit` is an error naming it.
    public static func read(_ location: String, limit: Int, client: SourceHTTPClient) async throws -> [UInt8] {
        let source: any LogSource
        let object: LogObject
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            guard let slash = location.lastIndex(of: "/"), location.index(after: slash) < location.endIndex else {
                throw SourceError(.invalidLocation, location: location, detail: "the URL names no file")
            }
            let name = String(location[location.index(after: slash)...])
            source = try HTTPDirectorySource(url: String(location[...slash]), client: client)
            object = LogObject(name: name.removingPercentEncoding ?? name, size: 0)
        } else {
            let path = location.hasPrefix("file://") ? String(location.dropFirst("file://".count)) : location
            source = LocalDirectorySource(path: path)
            object = LogObject(name: "", size: 0)
        }
        var bytes: [UInt8] = []
        try await source.read(object) { chunk in
            guard bytes.count + chunk.count <= limit else {
                throw SourceError(.invalidLocation, location: location, detail: "larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }
}
