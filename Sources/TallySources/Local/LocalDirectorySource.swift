import Foundation
import TallyFormats
import TallyReport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Logs in a local directory tree (or a single file), read with plain `read(2)` calls on NIO's
/// thread pool: a local disk, or an NFS mount that may hang, never blocks Swift's cooperative
/// pool, and a read deadline can walk away from a call that does not return.
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
        try await AbandonableBlockingCall.run { try listNow(format: format) }
    }

    private func listNow(format: LogFormat) throws -> [LogObject] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw SourceError(.notFound, location: root, detail: "no such file or directory")
        }
        if !isDirectory.boolValue {
            let name = (root as NSString).lastPathComponent
            guard format.reads(objectNamed: name) else { return [] }
            let (size, version) = try Self.sizeAndVersion(of: root)
            return [LogObject(name: "", size: size, version: version)]
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
                let (size, version) = try Self.sizeAndVersion(of: root + "/" + name)
                objects.append(LogObject(name: name, size: size, version: version))
            }
        }
    }

    /// The file's size, and its modification time in nanoseconds with its inode as its version
    /// (a file replaced by a rename gets a new inode even within one clock tick).
    private static func sizeAndVersion(of path: String) throws -> (Int64, String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SourceError(.io, location: path, detail: String(cString: strerror(errno)))
        }
        let nanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        return (Int64(info.st_size), "\(nanoseconds)-\(info.st_ino)")
    }

    public func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        try ObjectName.check(object.name, in: root)
        let path = object.name.isEmpty ? root : root + "/" + object.name
        let file = try await AbandonableBlockingCall.run { try OpenFile(path: path, chunkSize: Self.chunkSize) }
        while true {
            try Task.checkCancellation()
            let count = try await AbandonableBlockingCall.run { try file.readChunk() }
            if count == 0 { return }
            try consume(UnsafeRawBufferPointer(rebasing: file.buffer[0..<count]))
        }
    }

    /// A file open for reading and its chunk buffer, closed and freed when the last owner lets
    /// go — which may be a pool thread still blocked in a read its caller walked away from.
    private final class OpenFile: @unchecked Sendable {
        let path: String
        let descriptor: Int32
        let buffer: UnsafeMutableRawBufferPointer

        init(path: String, chunkSize: Int) throws {
            self.path = path
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                throw SourceError(errno == ENOENT ? .notFound : .io, location: path, detail: String(cString: strerror(errno)))
            }
            buffer = .allocate(byteCount: chunkSize, alignment: 16)
        }

        deinit {
            close(descriptor)
            buffer.deallocate()
        }

        /// Reads the next chunk into `buffer`; 0 at the end. Called by one thread at a time.
        func readChunk() throws -> Int {
            while true {
                let count = systemRead(descriptor, buffer.baseAddress, buffer.count)
                if count >= 0 { return count }
                if errno != EINTR { throw SourceError(.io, location: path, detail: String(cString: strerror(errno))) }
            }
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
