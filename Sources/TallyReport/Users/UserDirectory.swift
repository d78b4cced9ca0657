import TallySketches

/// The users an inactive-users report must account for even if they never connected: the
/// emails of a directory export, a CSV file whose header names an `email` column (else
/// `user_email`, else `user`; the header matched case-insensitively, the emails never). Other
/// columns are ignored; empty emails are skipped; the set is kept in email byte order.
public struct UserDirectory: Sendable, Equatable {
    /// Distinct emails in byte order.
    public private(set) var emails: [[UInt8]]

    /// The column names looked for, in order of preference.
    public static let columnNames = ["email", "user_email", "user"]

    /// The most emails a directory may hold.
    public static let maximumUsers = 10_000_000

    /// A directory of these emails.
    public init(emails: [[UInt8]]) {
        var sorted = emails.filter { !$0.isEmpty }.sorted { ByteStringOrder.precedes($0, $1) }
        var unique: [[UInt8]] = []
        unique.reserveCapacity(sorted.count)
        for email in sorted where unique.last != email { unique.append(email) }
        sorted.removeAll()
        self.emails = unique
    }

    /// Parses a CSV export (RFC 4180: quoted fields, doubled quotes, CRLF or LF line ends, an
    /// optional UTF-8 byte-order mark). `name` is how errors name the file.
    public init(csv bytes: [UInt8], name: String) throws(UserDirectoryError) {
        var records = CSVRecords(bytes)
        guard let header = try records.next(name: name) else {
            throw UserDirectoryError(file: name, line: 1, reason: "the file is empty; it needs a header line naming an email column")
        }
        let names = header.map { String(decoding: $0, as: UTF8.self).trimmingASCIISpaces.lowercased() }
        guard let column = Self.columnNames.lazy.compactMap({ names.firstIndex(of: $0) }).first else {
            throw UserDirectoryError(
                file: name, line: 1,
                reason: "no column named \(Self.columnNames.joined(separator: ", ")) in the header ("
                    + names.prefix(20).joined(separator: ",") + ")")
        }
        var emails: [[UInt8]] = []
        while let record = try records.next(name: name) {
            guard record.count > column else {
                if record.count == 1 && record[0].isEmpty { continue }  // a blank line
                throw UserDirectoryError(
                    file: name, line: records.line - 1, reason: "\(record.count) fields, the email column is field \(column + 1)")
            }
            guard emails.count < Self.maximumUsers else {
                throw UserDirectoryError(file: name, line: records.line - 1, reason: "more than \(Self.maximumUsers) users")
            }
            emails.append(record[column])
        }
        self.init(emails: emails)
    }

    /// The set as bytes: a count, then each email length-prefixed (how the coordinator keeps a
    /// job's directory between planning and merging).
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.writeVarUInt(UInt64(emails.count))
        for email in emails { writer.writeLengthPrefixed(email) }
        return writer.bytes
    }

    /// Reads bytes made by `encoded()`.
    public init(encoded bytes: [UInt8]) throws(SketchDecodingError) {
        var reader = ByteReader(bytes)
        let count = try reader.readVarUInt()
        guard count <= UInt64(bytes.count) else { throw SketchDecodingError(.invalidValue("\(count) users")) }
        var emails: [[UInt8]] = []
        for _ in 0..<count { emails.append(try reader.readLengthPrefixed()) }
        try reader.expectEnd()
        self.init(emails: emails)
    }
}

/// A user directory that cannot be read, naming the file and line.
public struct UserDirectoryError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var reason: String

    public var description: String { "user directory \(file)" + (line > 0 ? ", line \(line)" : "") + ": \(reason)" }

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }
}

/// RFC 4180 records of a byte buffer, one at a time (user directories, and the reports the
/// coordinator's pages show).
public struct CSVRecords {
    let bytes: [UInt8]
    var i = 0
    /// The line the next record starts on (1-based).
    public private(set) var line = 1

    /// Records of `bytes` (a UTF-8 byte order mark is skipped).
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
    }

    /// The next record's fields; nil at the end. `name` names the input in errors.
    public mutating func next(name: String) throws(UserDirectoryError) -> [[UInt8]]? {
        guard i < bytes.count else { return nil }
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        let startLine = line
        var quoted = false
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if quoted {
                if b == UInt8(ascii: "\"") {
                    if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                        field.append(b)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                guard field.isEmpty else { throw UserDirectoryError(file: name, line: line, reason: "a quote inside an unquoted field") }
                quoted = true
            case UInt8(ascii: ","):
                fields.append(field)
                field = []
            case 0x0D where i < bytes.count && bytes[i] == 0x0A:
                break
            case 0x0A:
                line += 1
                fields.append(field)
                return fields
            default:
                field.append(b)
            }
        }
        guard !quoted else { throw UserDirectoryError(file: name, line: startLine, reason: "a quoted field is not closed") }
        fields.append(field)
        return fields
    }
}

extension String {
    var trimmingASCIISpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" || s.last == "\r" { s.removeLast() }
        return String(s)
    }
}
