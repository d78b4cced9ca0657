import Testing

@testable import TallyFormats

@Suite struct JSONScannerTests {
    /// The eight-bytes-at-a-time skip lands on the first byte that ends or interrupts a
    /// string, never before it and never past it.
    @Test func wordSkipFindsTheFirstQuoteBackslashOrControlByte() {
        func lowest(_ bytes: [UInt8]) -> Int? {
            let word = UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            let marks = JSONScanner.stringSpecialBytes(word)
            return marks == 0 ? nil : marks.trailingZeroBitCount >> 3
        }
        for value in 0...255 {
            let special = value == 0x22 || value == 0x5C || value < 0x20
            for position in 0..<8 {
                for filler: UInt8 in [0x61, 0xC3, 0x7F, 0x20, 0x21, 0x23, 0x5B, 0x5D] {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[position] = UInt8(value)
                    #expect(lowest(bytes) == (special ? position : nil), "byte \(value) at \(position)")
                    // A second special byte further on does not move the first.
                    if special, position < 7 {
                        bytes[7] = 0x22
                        #expect(lowest(bytes) == position, "byte \(value) at \(position), quote at 7")
                    }
                }
            }
        }
        #expect(lowest(Array("abcdefgh".utf8)) == nil)
    }

    @Test func stringsOfEveryLengthAroundTheWordSizeScanToTheirClosingQuote() {
        for length in 0..<40 {
            for tail in ["\"", "\\n\"", "\u{1}\""] {
                let text = "\"" + String(repeating: "x", count: length) + tail + ",1"
                let bytes = Array(text.utf8)
                let field: JSONField? = bytes.withUnsafeBytes { raw in
                    var scanner = JSONScanner(raw)
                    return scanner.scanString()
                }
                if tail == "\u{1}\"" {
                    #expect(field == nil, "control byte accepted at length \(length)")
                } else {
                    #expect(field?.bytes.count == length + (tail == "\"" ? 0 : 2), "length \(length) tail \(tail)")
                }
            }
        }
    }
}
