import PropertyBased
import TallySketches
import Testing

@Suite struct StableHashTests {
    /// wyhash final 4's published test vectors (seed = index), also pinned by Zig's std.hash.Wyhash.
    /// They cover every length branch: empty, 1–3, 4–16, 17–48 and the 48-byte block loop.
    @Test func matchesUpstreamWyhashVectors() {
        let vectors: [(input: String, seed: UInt64, expected: UInt64)] = [
            ("", 0, 0x0409_638e_e2bd_e459),
            ("a", 1, 0xa841_2d09_1b5f_e0a9),
            ("abc", 2, 0x32dd_92e4_b291_5153),
            ("message digest", 3, 0x8619_1240_89a3_a16b),
            ("abcdefghijklmnopqrstuvwxyz", 4, 0x7a43_afb6_1d7f_5f40),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 5, 0xff42_329b_90e5_0d58),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890", 6,
                0xc39c_ab13_b115_aad3
            ),
        ]
        for vector in vectors {
            let actual = Array(vector.input.utf8).withUnsafeBytes { StableHash.hash($0, seed: vector.seed) }
            #expect(actual == vector.expected, "input \"\(vector.input)\"")
        }
    }

    /// Golden values for the seed-0 entry point that sketches persist. They guard format
    /// stability: if one changes, every stored DistinctCounter silently stops merging correctly.
    @Test func goldenValuesAreStable() {
        #expect(StableHash.hash([UInt8]()) == 0x0409_638e_e2bd_e459)
        #expect(StableHash.hash(Array("10.0.0.1".utf8)) == 0xc868_aa51_3560_2647)
        #expect(hashOfInteger(1) == 0xac36_0819_4ddc_6751)
        #expect(StableHash.mix(1) == 0x5692_161d_100b_05e5)
        #expect(StableHash.mix(0) == 0)
    }

    @Test func entryPointsAgree() async {
        await propertyCheck(input: Gen.uint8().array(of: 0...200), Gen.int(in: 0...7)) { bytes, shift in
            let viaCollection = StableHash.hash(bytes)
            // Misalign the buffer so unaligned loads are exercised.
            let padded = [UInt8](repeating: 0xAA, count: shift) + bytes
            let viaPointer = padded.withUnsafeBytes { StableHash.hash(UnsafeRawBufferPointer(rebasing: $0[shift...])) }
            #expect(viaCollection == viaPointer)
            #expect(StableHash.hash(bytes[...]) == viaCollection)
            // A non-contiguous collection takes the copying path.
            #expect(StableHash.hash(bytes.lazy.map { $0 }) == viaCollection)
        }
    }

    @Test func stringUTF8ViewHashesLikeItsBytes() {
        let text = "user@example.com"
        #expect(StableHash.hash(text.utf8) == StableHash.hash(Array(text.utf8)))
    }

    @Test func singleBitChangesAvalanche() {
        // Every bit flip of a 12-byte input should change roughly half of the output bits.
        let base = Array("192.168.1.10".utf8)
        let original = StableHash.hash(base)
        for byteIndex in base.indices {
            for bit in 0..<8 {
                var flipped = base
                flipped[byteIndex] ^= UInt8(1 << bit)
                let changedBits = (StableHash.hash(flipped) ^ original).nonzeroBitCount
                #expect((12...52).contains(changedBits))
            }
        }
    }

    @Test func lengthIsPartOfTheHash() {
        #expect(StableHash.hash([UInt8](repeating: 0, count: 3)) != StableHash.hash([UInt8](repeating: 0, count: 4)))
        #expect(StableHash.hash([UInt8]()) != StableHash.hash([0]))
    }
}
