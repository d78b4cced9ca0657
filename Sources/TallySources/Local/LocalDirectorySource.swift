#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TallyFormats
import TallyReport

/// Logs in a local directory tree (or a single file), read with plain `read(2)` calls.
public struct LocalDirectorySource: LogSource {
    /// The directory (or file) path.
    public let root: String
    public var location: String { root }

    /// How much is read per system call.
    static let chunkSize = 1 << 20

    /// A source rooted at `path`.
    public init(path: String) {
        var trimmed = path
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        root = trimmed
    }

    public func list(format: LogFormat) async throws -> [LogObject] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw SourceError(.notFound, location: root, detail: "no such file or directory")
        }
        if !isDirectory.boolValue {
            let name = (root as NSString).lastPathComponent
            return format.reads(objectNamed: name) ? [LogObject(name: "", size: try size(of: root))] : []
        }
        var objects: [LogObject] = []
        try walk(relative: "", into: &objects, format: format)
        return objects.sorted { $0.name < $1.name }
    }

    private func walk(relative: String, into objects: inout [LogObject], format: LogFormat) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SourceError(.io, location: directory, detail: "cannot list directory: \(error.localizedDescription)")
        }
        for entry in entries.sorted() where !LogFormat.isHidden(entry) {
            let name = relative.isEmpty ? entry : relative + "/" + entry
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                try walk(relative: name, into: &objects, format: format)
            } else if format.reads(objectNamed: entry) {
                objects.append(LogObject(name: name, size: try size(of: root + "/" + name)))
            }
        }
    }

    private func size(of path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SourceError(.io, location: path, detail: String(cString: strerror(errno)))
        }
        return Int64(info.st_size)
    }

    public func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        let path = object.name.isEmpty ? root : root + "/" + object.name
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SourceError(errno == ENOENT ? .notFound : .io, location: path, detail: String(cString: strerror(errno))) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            try Task.checkCancellation()
            let n = systemRead(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw SourceError(.io, location: path, detail: String(cString: strerror(errno)))
            }
            if n == 0 { return }
            try consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}

/// `read(2)`, named apart from the protocol's `read(_:into:)`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, buffer, count)
    #else
    return Darwin.read(fd, buffer, count)
    #endif
}
