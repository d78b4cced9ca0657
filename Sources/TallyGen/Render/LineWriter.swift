/// A growable byte buffer over manually managed memory: the renderers append whole lines to it
/// and a `FileSink` drains it in large writes. It is a struct holding a pointer, so it must only be
/// passed `inout` and released exactly once with `deallocate()`.
struct LineWriter {
    private(set) var base: UnsafeMutablePointer<UInt8>
    var count: Int = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() { base.deallocate() }

    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private mutating func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    @inline(__always)
    mutating func lit(_ text: StaticString) {
        if text.hasPointerRepresentation {
            let n = text.utf8CodeUnitCount
            reserve(n)
            (base + count).update(from: text.utf8Start, count: n)
            count += n
        } else {
            text.withUTF8Buffer { buffer in
                if let start = buffer.baseAddress { bytes(start, buffer.count) }
            }
        }
    }

    @inline(__always)
    mutating func bytes(_ start: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (base + count).update(from: start, count: n)
        count += n
    }

    mutating func bytes(_ array: [UInt8]) {
        array.withUnsafeBufferPointer { buffer in
            if let start = buffer.baseAddress { bytes(start, buffer.count) }
        }
    }

    /// Decimal digits of `value`.
    @inline(__always)
    mutating func uint(_ value: UInt64) {
        reserve(20)
        var digits = 1
        var t = value
        while t >= 10 {
            t /= 10
            digits += 1
        }
        var x = value
        var p = count + digits - 1
        repeat {
            base[p] = UInt8(truncatingIfNeeded: x % 10) &+ 0x30
            x /= 10
            p -= 1
        } while x != 0
        count += digits
    }

    @inline(__always)
    mutating func int(_ value: Int64) {
        if value < 0 {
            byte(0x2D)
            uint(UInt64(bitPattern: 0 &- value))
        } else {
            uint(UInt64(value))
        }
    }

    /// `value` (non-negative) zero-padded to `width` digits.
    @inline(__always)
    mutating func padded(_ value: Int64, width: Int) {
        reserve(width)
        var x = value
        var p = count + width - 1
        while p >= count {
            base[p] = UInt8(truncatingIfNeeded: x % 10) &+ 0x30
            x /= 10
            p -= 1
        }
        count += width
    }

    /// Lowercase hex digits of `value`, no leading zeros (at least one digit).
    mutating func hex(_ value: UInt64) {
        var digits = 1
        var t = value >> 4
        while t != 0 {
            t >>= 4
            digits += 1
        }
        hex(value, width: digits)
    }

    /// Lowercase hex, exactly `width` digits.
    mutating func hex(_ value: UInt64, width: Int) {
        reserve(width)
        var x = value
        var p = count + width - 1
        while p >= count {
            let d = UInt8(truncatingIfNeeded: x & 15)
            base[p] = d < 10 ? d &+ 0x30 : d &+ 0x57
            x >>= 4
            p -= 1
        }
        count += width
    }
}

/// An immutable table of byte strings stored contiguously, shared read-only by all threads.
final class ByteTable: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<UInt8>
    private let offsets: UnsafeMutablePointer<Int>
    let count: Int

    init(_ items: [[UInt8]]) {
        count = items.count
        let total = items.reduce(0) { $0 + $1.count }
        storage = .allocate(capacity: max(total, 1))
        offsets = .allocate(capacity: items.count + 1)
        var position = 0
        for (index, item) in items.enumerated() {
            offsets[index] = position
            item.withUnsafeBufferPointer { buffer in
                if let start = buffer.baseAddress { (storage + position).update(from: start, count: buffer.count) }
            }
            position += item.count
        }
        offsets[items.count] = position
    }

    convenience init(strings: [String]) {
        self.init(strings.map { Array($0.utf8) })
    }

    deinit {
        storage.deallocate()
        offsets.deallocate()
    }

    @inline(__always)
    func write(_ index: Int, to writer: inout LineWriter) {
        let start = offsets[index]
        writer.bytes(storage + start, offsets[index + 1] - start)
    }

    subscript(index: Int) -> [UInt8] {
        let start = offsets[index]
        return Array(UnsafeBufferPointer(start: storage + start, count: offsets[index + 1] - start))
    }
}

/// Text encodings of one string for the three formats.
enum Encode {
    /// An RFC 4180 field: quoted (with doubled quotes) only when it holds `,`, `"`, CR or LF.
    static func csv(_ text: String) -> [UInt8] {
        let raw = Array(text.utf8)
        guard raw.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return raw }
        var out: [UInt8] = [0x22]
        for b in raw {
            if b == 0x22 { out.append(0x22) }
            out.append(b)
        }
        out.append(0x22)
        return out
    }

    /// The inside of a JSON string literal (no surrounding quotes). With `asciiOnly`, every
    /// non-ASCII scalar is written as a `\uXXXX` escape (surrogate pairs above U+FFFF);
    /// otherwise it is kept as raw UTF-8.
    static func json(_ text: String, asciiOnly: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        func hex4(_ v: UInt32) {
            out.append(contentsOf: Array("\\u".utf8))
            for shift in stride(from: 12, through: 0, by: -4) {
                let d = UInt8((v >> UInt32(shift)) & 15)
                out.append(d < 10 ? d + 0x30 : d + 0x57)
            }
        }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20: hex4(v)
            case 0x20..<0x80: out.append(UInt8(v))
            default:
                if !asciiOnly {
                    out.append(contentsOf: Array(String(scalar).utf8))
                } else if v < 0x10000 {
                    hex4(v)
                } else {
                    let u = v - 0x10000
                    hex4(0xD800 + (u >> 10))
                    hex4(0xDC00 + (u & 0x3FF))
                }
            }
        }
        return out
    }
}
