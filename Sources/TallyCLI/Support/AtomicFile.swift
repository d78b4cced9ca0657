import Foundation
import TallyClient

/// Writes files so that readers see either the old content or the whole new one.
enum AtomicFile {
    /// Writes what `produce` hands to its writer into a temporary file beside `path`, then
    /// renames it over `path`; on failure the temporary file is removed and `path` is untouched.
    static func stream(to path: String, _ produce: ((any Collection<UInt8>) throws -> Void) async throws -> Void) async throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
            let handle = try? FileHandle(forWritingTo: temporary)
        else {
            throw JobError(reason: "cannot write \(path): cannot create \(temporary.path)")
        }
        do {
            try await produce { bytes in try handle.write(contentsOf: Data(bytes)) }
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else {
                throw JobError(reason: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Downloads a finished job's CSV into `path`, atomically.
    static func fetch(_ job: String, with client: JobAPIClient, to path: String) async throws {
        try await stream(to: path) { write in
            try await client.fetch(job) { chunk in try write(chunk.readableBytesView) }
        }
    }
}
