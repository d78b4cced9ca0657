/// What a row of a partial is keyed by; a partial records it, and the shard cache's key
/// includes it, so rows of one report are never taken for another's (docs/design.md §1.10).
public enum RowKey: UInt8, Sendable, Hashable, CaseIterable {
    /// The user's email.
    case user = 1
    /// The Resource's id (empty for connections naming none).
    case resource = 2
    /// The user's email and the Resource's id, as one key (`pair`).
    case userAndResource = 3

    /// Appends the key of the pair (`first`, `second`) to `out`, so that keys compare in byte
    /// order exactly as the pairs do (first, then second): a zero byte of `first` is written
    /// `00 FF` and `first` ends with `00 01`. Any bytes are allowed, and no two pairs share a key.
    @inline(__always)
    public static func appendPair(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        for byte in first {
            out.append(byte)
            if byte == 0 { out.append(0xFF) }
        }
        out.append(0)
        out.append(1)
        out.append(contentsOf: second)
    }

    /// The key of the pair (`first`, `second`).
    public static func pair(_ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        first.withUnsafeBytes { f in second.withUnsafeBytes { s in appendPair(f, s, to: &out) } }
        return out
    }

    /// The two parts of a pair's key; a key `appendPair` did not write (no end of its first
    /// part) is all first part.
    public static func split(_ key: some Collection<UInt8>) -> (first: [UInt8], second: [UInt8]) {
        var first: [UInt8] = []
        var i = key.startIndex
        while i != key.endIndex {
            let byte = key[i]
            i = key.index(after: i)
            guard byte == 0, i != key.endIndex else {
                first.append(byte)
                continue
            }
            let next = key[i]
            i = key.index(after: i)
            if next == 1 { return (first, Array(key[i...])) }
            first.append(0)
        }
        return (first, [])
    }
}
