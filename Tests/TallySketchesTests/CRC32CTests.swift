import PropertyBased
import TallySketches
import Testing

@Suite struct CRC32CTests {
    @Test func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    /// RFC 3720 (iSCSI) B.4 vectors: 32 zero bytes, 32 0xFF bytes, and 0...31 ascending.
    @Test func iscsiVectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test func continuingEqualsWhole() async {
        await propertyCheck(input: Gen.uint8().array(of: 0...100), Gen.uint8().array(of: 0...100)) { first, second in
            let whole = CRC32C.checksum(first + second)
            #expect(CRC32C.checksum(second, continuing: CRC32C.checksum(first)) == whole)
            let viaPointer = (first + second).withUnsafeBytes { CRC32C.checksum($0) }
            #expect(viaPointer == whole)
        }
    }
}
