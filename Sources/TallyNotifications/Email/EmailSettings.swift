import TallyFormats
import TallyProtocol

/// The SMTP relay job ends are mailed through (`notifications.email` in `tally.yaml`), and the
/// domains recipients may be in.
public struct EmailSettings: Sendable, Equatable {
    public var server: String
    public var port: Int
    public var sender: String
    public var username: String?
    public var password: String?
    /// PEM of a private CA that signed the relay's certificate.
    public var caFile: String?
    /// Lower-case domains a recipient's address must be in.
    public var allowedDomains: [String]

    public init(server: String, port: Int, sender: String, username: String?, password: String?, caFile: String?, allowedDomains: [String])
    {
        self.server = server
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.caFile = caFile
        self.allowedDomains = allowedDomains.map { $0.lowercased() }
    }

    /// Why `address` may not be mailed, or nil: one `@`, no spaces or control characters, at
    /// most 254 bytes, in an allowed domain.
    public func problem(with address: String) -> String? {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard address.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            address.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != "<" && $0 != ">" })
        else {
            return "'\(address.escapingControlCharacters)' is not an e-mail address"
        }
        guard allowedDomains.contains(parts[1].lowercased()) else {
            return "\(address) is not in an allowed domain (notifications.email.allowed_domains: \(allowedDomains.joined(separator: ", ")))"
        }
        return nil
    }
}
