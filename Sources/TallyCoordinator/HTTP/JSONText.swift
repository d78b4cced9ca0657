import Foundation
import TallyProtocol

/// JSON written by hand where the activity log needs exact, compact text: string literals, flat
/// objects of strings, and the one client-supplied object (`X-Tally-Context`) checked and
/// re-written compactly so a row never holds anything but one JSON object.
enum JSONText {
    /// An object of string values, keys in the given order; a key given more than once keeps
    /// its values as an array, in order.
    static func object(_ pairs: [(String, String)]) -> String {
        var keys: [String] = []
        var values: [String: [String]] = [:]
        for (key, value) in pairs {
            if values[key] == nil { keys.append(key) }
            values[key, default: []].append(value)
        }
        let members = keys.map { key in
            let list = values[key] ?? []
            let value = list.count == 1 ? list[0].jsonLiteral : "[" + list.map(\.jsonLiteral).joined(separator: ",") + "]"
            return key.jsonLiteral + ":" + value
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// `object(pairs)` within `maximumBytes` of text: each value cut to `maximumValueBytes` (a cut
    /// value ends with "…"), and pairs that no longer fit left out; an object that lost anything
    /// gains `"_cut"` with the number of bytes of the pairs' text left out. What a client sends in
    /// a query or a path bounds nothing else (docs/security.md).
    static func boundedObject(_ pairs: [(String, String)], maximumBytes: Int, maximumValueBytes: Int) -> String {
        var cut = 0
        let shortened = pairs.map { key, value -> (String, String) in
            let k = String(decoding: key.utf8.prefix(maximumValueBytes), as: UTF8.self)
            guard value.utf8.count > maximumValueBytes else { return (k, value) }
            cut += value.utf8.count - maximumValueBytes
            // Decoding a prefix can end in half a character; it becomes U+FFFD, still valid text.
            return (k, String(decoding: value.utf8.prefix(maximumValueBytes), as: UTF8.self) + "…")
        }
        // Room for the marker: `,"_cut":` and 20 digits.
        let room = maximumBytes - 30
        var kept: [(String, String)] = []
        var size = 2
        for (index, pair) in shortened.enumerated() {
            let member = pair.0.jsonLiteral.utf8.count + 1 + pair.1.jsonLiteral.utf8.count + 1
            guard size + member <= room else {
                cut += shortened[index...].reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count }
                break
            }
            size += member
            kept.append(pair)
        }
        guard cut > 0 else { return object(kept) }
        let text = object(kept)
        return String(text.dropLast()) + (kept.isEmpty ? "" : ",") + "\"_cut\":\(cut)}"
    }

    /// The most nesting a client-supplied object may have.
    static let maximumDepth = 8

    /// `text` compacted if it is one JSON object of at most `maximumDepth` levels, else nil.
    static func compactObject(_ text: String) -> String? {
        guard depth(of: text.utf8) <= maximumDepth,
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The deepest nesting of brackets and braces outside strings, counted before any parser
    /// sees the text, so deep input costs no recursion.
    static func depth(of bytes: some Sequence<UInt8>) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
