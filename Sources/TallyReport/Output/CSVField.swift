/// One RFC 4180 field, the way every CSV tally writes quotes it: as it is, unless it holds a
/// comma, a quote, CR or LF; then in quotes, inner quotes doubled. Works on bytes, so a CR LF
/// pair inside a field is seen as the two line-end bytes it is.
public enum CSVField {
    /// Appends `bytes` as one field.
    public static func append(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else { out.append(contentsOf: bytes); return }
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }
}
