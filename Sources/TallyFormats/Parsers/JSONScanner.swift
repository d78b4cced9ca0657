/// A validating, non-allocating scanner over one JSON text held in memory.
///
/// The parsers need a dozen fields out of each line and must reject lines that are not JSON,
/// so this walks every byte once, validating as it goes, and hands out slices of the line
/// instead of building values. Strings are returned raw (between the quotes) together with
/// whether they hold escapes; `JSONStringDecoder` turns an escaped one into bytes when needed.
@usableFromInline
struct JSONScanner {
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let end: Int
    @usableFromInline var index: Int = 0
    @usableFromInline var depth: Int = 0

    /// Nesting deeper than this is rejected rather than risking the stack on hostile input.
    @usableFromInline static let maximumDepth = 64

    @inlinable
    init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        end = bytes.count
    }

    @inlinable
    var atEnd: Bool { index >= end }

    @inlinable
    func peek() -> UInt8 { index < end ? base.load(fromByteOffset: index, as: UInt8.self) : 0 }

    @inlinable
    mutating func skipWhitespace() {
        while index < end {
            let b = base.load(fromByteOffset: index, as: UInt8.self)
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            index += 1
        }
    }

    @inlinable
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < end, base.load(fromByteOffset: index, as: UInt8.self) == byte else { return false }
        index += 1
        return true
    }

    /// Scans a string starting at `"`; returns its raw content and whether it has escapes.
    @inlinable
    mutating func scanString() -> JSONField? {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { return nil }
        index += 1
        let start = index
        var escaped = false
        while index < end {
            // Most string bytes are ordinary: skip them eight at a time, and land on the first
            // special byte of a word directly.
            while index + 8 <= end {
                let special = Self.stringSpecialBytes(ByteScanning.word(base, index))
                if special != 0 {
                    index += special.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < end else { break }
            let b = base.load(fromByteOffset: index, as: UInt8.self)
            if b == UInt8(ascii: "\"") {
                let field = JSONField(
                    bytes: UnsafeRawBufferPointer(start: base + start, count: index - start),
                    kind: .string, escaped: escaped)
                index += 1
                return field
            }
            if b < 0x20 { return nil }
            if b == UInt8(ascii: "\\") {
                escaped = true
                index += 1
                guard index < end else { return nil }
                switch base.load(fromByteOffset: index, as: UInt8.self) {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    guard index + 4 < end else { return nil }
                    for k in 1...4 where JSONStringDecoder.hexValue(base.load(fromByteOffset: index + k, as: UInt8.self)) < 0 {
                        return nil
                    }
                    index += 5
                default:
                    return nil
                }
                continue
            }
            index += 1
        }
        return nil
    }

    /// The high bit of each of the eight bytes (first byte lowest) that ends or interrupts a
    /// string's plain run: a quote, a backslash or a control byte. Only the lowest mark is
    /// exact (see `ByteScanning.bytes(below:in:)`), which is the one used.
    @inlinable
    static func stringSpecialBytes(_ word: UInt64) -> UInt64 {
        ByteScanning.bytes(equalTo: UInt8(ascii: "\""), in: word)
            | ByteScanning.bytes(equalTo: UInt8(ascii: "\\"), in: word)
            | ByteScanning.bytes(below: 0x20, in: word)
    }

    /// Scans a number per the JSON grammar and returns its text.
    @inlinable
    mutating func scanNumber() -> JSONField? {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard index < end else { return nil }
        if peek() == UInt8(ascii: "0") {
            index += 1
        } else {
            guard peek() >= 0x31, peek() <= 0x39 else { return nil }
            while index < end, peek() >= 0x30, peek() <= 0x39 { index += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard peek() >= 0x30, peek() <= 0x39 else { return nil }
            while index < end, peek() >= 0x30, peek() <= 0x39 { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard peek() >= 0x30, peek() <= 0x39 else { return nil }
            while index < end, peek() >= 0x30, peek() <= 0x39 { index += 1 }
        }
        return JSONField(bytes: UnsafeRawBufferPointer(start: base + start, count: index - start), kind: .number, escaped: false)
    }

    @inlinable
    mutating func scanLiteral(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard index + n <= end, ByteScanning.memcmpEqual(base + index, UnsafeRawPointer(literal.utf8Start), n) else { return false }
        index += n
        return true
    }

    /// Scans any value; strings, numbers and `null` come back as fields, containers and
    /// booleans are validated and skipped (`kind == .other`).
    @inlinable
    mutating func scanValue() -> JSONField? {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "\""): return scanString()
        case UInt8(ascii: "{"):
            guard skipContainer(open: UInt8(ascii: "{")) else { return nil }
            return JSONField(bytes: .init(start: nil, count: 0), kind: .object, escaped: false)
        case UInt8(ascii: "["):
            guard skipContainer(open: UInt8(ascii: "[")) else { return nil }
            return JSONField(bytes: .init(start: nil, count: 0), kind: .array, escaped: false)
        case UInt8(ascii: "t"): return scanLiteral("true") ? JSONField(kind: .other) : nil
        case UInt8(ascii: "f"): return scanLiteral("false") ? JSONField(kind: .other) : nil
        case UInt8(ascii: "n"): return scanLiteral("null") ? JSONField(kind: .null) : nil
        default: return scanNumber()
        }
    }

    @inlinable
    mutating func skipContainer(open: UInt8) -> Bool {
        if open == UInt8(ascii: "{") {
            var iterator = ObjectIteration()
            while let key = nextKey(&iterator) {
                _ = key
                guard scanValue() != nil else { return false }
            }
            return iterator.valid
        } else {
            var iterator = ArrayIteration()
            while nextElement(&iterator) {
                guard scanValue() != nil else { return false }
            }
            return iterator.valid
        }
    }

    /// State of a walk through one object's members.
    @usableFromInline
    struct ObjectIteration {
        @usableFromInline var started = false
        @usableFromInline var valid = true
        @inlinable init() {}
    }

    /// Advances to the next key of an object (consuming `{` on the first call and the `:` after
    /// the key); `nil` at the closing brace or on a syntax error (then `iteration.valid` is false).
    @inlinable
    mutating func nextKey(_ iteration: inout ObjectIteration) -> JSONField? {
        if !iteration.started {
            iteration.started = true
            guard consume(UInt8(ascii: "{")) else {
                iteration.valid = false
                return nil
            }
            depth += 1
            guard depth <= Self.maximumDepth else {
                iteration.valid = false
                return nil
            }
            if consume(UInt8(ascii: "}")) {
                depth -= 1
                return nil
            }
        } else {
            if consume(UInt8(ascii: "}")) {
                depth -= 1
                return nil
            }
            guard consume(UInt8(ascii: ",")) else {
                iteration.valid = false
                return nil
            }
        }
        guard let key = scanString(), consume(UInt8(ascii: ":")) else {
            iteration.valid = false
            return nil
        }
        return key
    }

    /// State of a walk through one array's elements.
    @usableFromInline
    struct ArrayIteration {
        @usableFromInline var started = false
        @usableFromInline var valid = true
        @usableFromInline var count = 0
        @inlinable init() {}
    }

    /// Advances to the next array element (consuming `[` first); false at `]` or on error.
    @inlinable
    mutating func nextElement(_ iteration: inout ArrayIteration) -> Bool {
        if !iteration.started {
            iteration.started = true
            guard consume(UInt8(ascii: "[")) else {
                iteration.valid = false
                return false
            }
            depth += 1
            guard depth <= Self.maximumDepth else {
                iteration.valid = false
                return false
            }
            if consume(UInt8(ascii: "]")) {
                depth -= 1
                return false
            }
        } else {
            if consume(UInt8(ascii: "]")) {
                depth -= 1
                return false
            }
            guard consume(UInt8(ascii: ",")) else {
                iteration.valid = false
                return false
            }
        }
        iteration.count += 1
        return true
    }
}

/// A scalar found by `JSONScanner`: raw bytes of a string (between the quotes) or a number.
@usableFromInline
struct JSONField {
    @usableFromInline
    enum Kind: UInt8 { case absent, string, number, null, object, array, other }

    @usableFromInline var bytes: UnsafeRawBufferPointer
    @usableFromInline var kind: Kind
    @usableFromInline var escaped: Bool

    @inlinable
    init(bytes: UnsafeRawBufferPointer = .init(start: nil, count: 0), kind: Kind, escaped: Bool = false) {
        self.bytes = bytes
        self.kind = kind
        self.escaped = escaped
    }

    /// No such key was seen.
    @inlinable static var absent: JSONField { JSONField(kind: .absent) }

    /// A present, non-null value.
    @inlinable var isPresent: Bool { kind != .absent && kind != .null }
}
