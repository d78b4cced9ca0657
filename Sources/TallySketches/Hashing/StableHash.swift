/// A fast 64-bit hash of bytes whose values never change across processes, platforms or versions.
///
/// Hash values end up inside persisted sketches (a `DistinctCounter` written by one run is merged
/// by another), so unlike `Hasher` this function is unseeded per process and its output is part
/// of the file format. The algorithm is wyhash final version 4 with its default secret and seed 0
/// (the same function Zig's `std.hash.Wyhash` and Bun implement); the test suite pins the
/// upstream test vectors so an accidental change cannot ship silently.
public enum StableHash {
    // wyhash's default secret: odd constants with 32 set bits each, chosen by its author so that
    // `mum(a ^ s0, b ^ s1)` spreads biased input (ASCII, small integers) across all bits.
    private static let s0: UInt64 = 0xa076_1d64_78bd_642f
    private static let s1: UInt64 = 0xe703_7ed1_a0b4_28db
    private static let s2: UInt64 = 0x8ebc_6af0_9c88_c6e3
    private static let s3: UInt64 = 0x5899_65cc_7537_4cc3

    /// Hashes the bytes in `bytes` with seed 0.
    ///
    /// - Parameter bytes: The input; it may start at any alignment.
    /// - Returns: The stable 64-bit hash.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        hash(bytes, seed: 0)
    }

    /// Hashes a collection of bytes; equal to `hash(_:)` on a buffer holding the same bytes.
    ///
    /// Contiguous collections (`[UInt8]`, `ArraySlice`, native `String.UTF8View`) are hashed in
    /// place; others are copied into a temporary array first. Inlinable so callers get a
    /// specialized copy instead of a generic call per hash.
    @inlinable
    public static func hash(_ bytes: some Collection<UInt8>) -> UInt64 {
        if let value = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0), seed: 0) }) {
            return value
        }
        return Array(bytes).withUnsafeBytes { hash($0, seed: 0) }
    }

    /// Hashes `bytes` with an explicit seed, for callers that need independent hash functions.
    ///
    /// Seed 0 gives the same value as `hash(_:)`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let length = bytes.count
        var state = seed ^ wymix(seed ^ s0, s1)
        var a: UInt64
        var b: UInt64
        if length <= 16 {
            if length >= 4 {
                // Two possibly overlapping 4-byte reads from each end cover every length 4...16
                // without a byte loop.
                let quarter = (length >> 3) << 2
                a = (read4(bytes, 0) << 32) | read4(bytes, quarter)
                b = (read4(bytes, length - 4) << 32) | read4(bytes, length - 4 - quarter)
            } else if length > 0 {
                a = (UInt64(bytes[0]) << 16) | (UInt64(bytes[length >> 1]) << 8) | UInt64(bytes[length - 1])
                b = 0
            } else {
                a = 0
                b = 0
            }
        } else {
            var remaining = length
            var position = 0
            if remaining > 48 {
                // Three independent lanes keep the multiplier pipeline busy on long inputs.
                var lane1 = state
                var lane2 = state
                repeat {
                    state = wymix(read8(bytes, position) ^ s1, read8(bytes, position + 8) ^ state)
                    lane1 = wymix(read8(bytes, position + 16) ^ s2, read8(bytes, position + 24) ^ lane1)
                    lane2 = wymix(read8(bytes, position + 32) ^ s3, read8(bytes, position + 40) ^ lane2)
                    position += 48
                    remaining -= 48
                } while remaining > 48
                state ^= lane1 ^ lane2
            }
            while remaining > 16 {
                state = wymix(read8(bytes, position) ^ s1, read8(bytes, position + 8) ^ state)
                position += 16
                remaining -= 16
            }
            // The last 16 bytes may overlap bytes already mixed; that is how wyhash avoids a tail loop.
            a = read8(bytes, position + remaining - 16)
            b = read8(bytes, position + remaining - 8)
        }
        a ^= s1
        b ^= state
        let product = a.multipliedFullWidth(by: b)
        return wymix(product.low ^ s0 ^ UInt64(truncatingIfNeeded: length), product.high ^ s1)
    }

    /// The splitmix64 finalizer: a bijective mix that spreads every input bit over the output.
    ///
    /// Use it to derive a well-distributed 64-bit hash from an integer that is already unique
    /// (an interned id, a counter). `mix(0) == 0`.
    @inlinable
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func wymix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    @inline(__always)
    private static func read8(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func read4(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }
}
