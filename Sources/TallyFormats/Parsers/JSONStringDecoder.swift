/// Decodes JSON string escapes into a scratch buffer owned by the parser.
///
/// The buffer is sized to the longest line seen (a decoded string is never longer than its
/// escaped form) and reset per line, so decoding allocates nothing in the steady state.
@usableFromInline
final class JSONStringDecoder {
    @usableFromInline var storage: UnsafeMutableRawBufferPointer
    @usableFromInline var used = 0

    @usableFromInline
    init() {
        storage = .allocate(byteCount: 4096, alignment: 8)
    }

    deinit { storage.deallocate() }

    /// Makes room for every string of a line of `length` bytes and forgets the previous line's.
    @inlinable
    func reset(forLineOfLength length: Int) {
        used = 0
        if storage.count < length {
            storage.deallocate()
            storage = .allocate(byteCount: max(length, storage.count * 2), alignment: 8)
        }
    }

    @inlinable
    static func hexValue(_ b: UInt8) -> Int {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return -1
        }
    }

    /// The field's bytes with escapes decoded (or the raw bytes when it has none); `nil` when
    /// an escape encodes an unpaired surrogate, which is not valid text.
    @inlinable
    func text(of field: JSONField) -> UnsafeRawBufferPointer? {
        guard field.escaped else { return field.bytes }
        let src = field.bytes
        let out = storage.baseAddress! + used
        var o = 0
        var i = 0
        func put(_ b: UInt8) {
            out.storeBytes(of: b, toByteOffset: o, as: UInt8.self)
            o += 1
        }
        func hex4(_ at: Int) -> Int {
            (Self.hexValue(src[at]) << 12) | (Self.hexValue(src[at + 1]) << 8) | (Self.hexValue(src[at + 2]) << 4)
                | Self.hexValue(src[at + 3])
        }
        while i < src.count {
            let b = src[i]
            guard b == UInt8(ascii: "\\") else {
                put(b)
                i += 1
                continue
            }
            let e = src[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): put(0x08)
            case UInt8(ascii: "f"): put(0x0C)
            case UInt8(ascii: "n"): put(0x0A)
            case UInt8(ascii: "r"): put(0x0D)
            case UInt8(ascii: "t"): put(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if scalar >= 0xD800, scalar <= 0xDBFF {
                    guard i + 6 <= src.count, src[i] == UInt8(ascii: "\\"), src[i + 1] == UInt8(ascii: "u") else { return nil }
                    let low = hex4(i + 2)
                    guard low >= 0xDC00, low <= 0xDFFF else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if scalar >= 0xDC00, scalar <= 0xDFFF {
                    return nil
                }
                if scalar < 0x80 {
                    put(UInt8(scalar))
                } else if scalar < 0x800 {
                    put(UInt8(0xC0 | (scalar >> 6)))
                    put(UInt8(0x80 | (scalar & 0x3F)))
                } else if scalar < 0x10000 {
                    put(UInt8(0xE0 | (scalar >> 12)))
                    put(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                    put(UInt8(0x80 | (scalar & 0x3F)))
                } else {
                    put(UInt8(0xF0 | (scalar >> 18)))
                    put(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
                    put(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                    put(UInt8(0x80 | (scalar & 0x3F)))
                }
            default: put(e)  // \" \\ \/
            }
        }
        used += o
        return UnsafeRawBufferPointer(start: out, count: o)
    }
}
