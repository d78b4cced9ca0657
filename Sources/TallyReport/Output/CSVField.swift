/// One RFC 4180 field, the way every CSV tally writes quotes it: as it is, unless it holds a
/// comma, a quote, CR or LF; then in quotes, inner quotes doubled. Works on bytes, so a CR LF
/// pair inside a field is seen as the two line-end bytes it is.
///
/// A field a spreadsheet would take for a formula — starting with `=`, `+`, `-`, `@`, a tab or
/// CR — is written with a leading `'`, as OWASP recommends against CSV injection, so opening a
/// report shows the text instead of running it (docs/design.md §1.6). Only text fields go
/// through here; numbers are written as they are.
public enum CSVField {
    /// Appends `bytes` as one field.
    public static func append(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        let neutralised = bytes.first.map(startsFormula) ?? false
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            if neutralised { out.append(UInt8(ascii: "'")) }
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        if neutralised { out.append(UInt8(ascii: "'")) }
        for b in bytes {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether a field starting with `byte` would be read as a formula.
    @inline(__always)
    static func startsFormula(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "=") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "@")
            || byte == 0x09 || byte == 0x0D
    }
}
