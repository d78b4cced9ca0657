import Foundation

/// Whether a host name or address only reaches this machine, parsed rather than matched by
/// prefix: `127.0.0.1`, any other address in 127.0.0.0/8, `::1` (also written out in full or in
/// brackets, as a URL's authority has it), and the name `localhost`. `127.evil.example` and
/// `localhost.evil.example` are not. The coordinator's open mode and the clients' plain-HTTP
/// warning ask it.
public enum LoopbackAddress {
    public static func contains(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" || host == "localhost." { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            // The first octet is the first byte in network order.
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }

    /// The host of a request's authority (`Host`): `127.0.0.1:8080` → `127.0.0.1`,
    /// `[::1]:8080` → `::1`, `localhost` → `localhost`.
    public static func host(ofAuthority authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        if let colon = authority.lastIndex(of: ":"), authority.firstIndex(of: ":") == colon {
            return String(authority[..<colon])
        }
        return authority
    }
}
