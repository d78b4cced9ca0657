import Testing
@testable import TallyFormats

@Suite struct JSONScannerTests {
    /// The eight-bytes-at-a-time skip may stop early, but must never step over a byte that ends
    /// or interrupts a string.
    @Test func wordSkipNeverMissesAQuoteBackslashOrControlByte() {
        for value in 0...255 {
            let special = value == 0x22 || value == 0x5C || value < 0x20
            for position in 0..<8 {
                for filler: UInt8 in [0x61, 0xC3, 0x7F, 0x20] {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[position] = UInt8(value)
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    if special { #expect(JSONScanner.hasStringSpecialByte(word), "byte \(value) at \(position)") }
                }
            }
        }
        let plain = Array("abcdefgh".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(!JSONScanner.hasStringSpecialByte(plain))
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
