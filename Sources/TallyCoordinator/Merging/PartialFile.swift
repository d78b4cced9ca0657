import Foundation
import TallyReport

/// A committed partial's file, read at offsets (`pread`) by a streaming merge: only the
/// blocks being merged are in memory. Immutable, and `pread` keeps no position: any thread may
/// read it.
final class PartialFile: PartialBytes, Sendable {
    let path: String
    private let fd: Int32
    let count: Int

    /// Opens the file; a missing one throws.
    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CoordinatorError.storage("cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw CoordinatorError.storage("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        count = Int(info.st_size)
    }

    deinit {
        close(fd)
    }

    func read(offset: Int, count wanted: Int) throws -> [UInt8] {
        let size = max(0, min(wanted, count - offset))
        guard size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < size {
                let n = pread(fd, buffer.baseAddress! + done, size - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CoordinatorError.storage("cannot read \(path): \(String(cString: strerror(errno)))")
                }
                guard n > 0 else { break }
                done += n
            }
        }
        return done == size ? bytes : Array(bytes[..<done])
    }
}
