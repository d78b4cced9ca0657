/// A report's rows gathered into chunks of about 64 KiB for an `emit` callback, and counted: the
/// one buffering of every row writer (`ReportRows`, `InactiveUsersCSV`, `ResourceAccessCSV`).
struct RowChunks {
    /// The rows written since the last chunk was handed on.
    var bytes: [UInt8] = []
    /// Rows written in all.
    private(set) var rows = 0

    /// Counts a row just appended to `bytes`, and hands the chunk to `emit` once it reaches 64 KiB.
    mutating func endRow<E: Error>(_ emit: ([UInt8]) throws(E) -> Void) throws(E) {
        rows += 1
        guard bytes.count >= 1 << 16 else { return }
        try emit(bytes)
        bytes.removeAll(keepingCapacity: true)
    }

    /// Hands the last rows to `emit`; the number of rows written.
    mutating func finish<E: Error>(_ emit: ([UInt8]) throws(E) -> Void) throws(E) -> Int {
        if !bytes.isEmpty { try emit(bytes) }
        bytes.removeAll()
        return rows
    }
}
