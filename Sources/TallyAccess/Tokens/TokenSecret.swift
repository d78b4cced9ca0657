import Crypto
import Foundation

/// A token's secret: `tally_` and 43 characters of URL-safe base64 (32 random bytes). The fixed
/// prefix lets secret scanners find one that leaked; the store keeps only its SHA-256.
package struct TokenSecret: Sendable {
    /// The prefix every secret starts with.
    package static let prefix = "tally_"

    /// The secret itself: shown once, when created.
    package let text: String

    /// A value with every field given.
    package init(text: String) {
        self.text = text
    }

    /// A new random secret.
    package static func generate() -> TokenSecret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let encoded = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return TokenSecret(text: prefix + encoded)
    }

    /// A secret made elsewhere (`tally token generate`, kept in a deployment's secret store),
    /// checked for the shape `generate` gives.
    package static func imported(_ text: String) throws(TokenError) -> TokenSecret {
        let body = text.dropFirst(prefix.count)
        guard text.hasPrefix(prefix), body.count >= 43,
            body.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
            })
        else {
            throw TokenError.invalid(
                "a secret is '\(prefix)' and at least 43 letters, digits, '-' or '_' (make one with `tally token generate`)",
                field: "secret")
        }
        return TokenSecret(text: text)
    }

    /// What a presented secret is looked up by.
    package static func hash(_ text: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// The last 4 characters: enough to tell secrets apart in logs, too few to guess one.
    package static func fingerprint(_ text: String) -> String {
        String(text.suffix(4))
    }

    /// Whether two hashes are equal, in time that does not depend on where they differ.
    package static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
