import Foundation
import Hummingbird

/// The cookies of the web pages (docs/security.md): the session, and the form cookie that
/// carries a form token while nobody is signed in (the sign-in form, a coordinator without
/// tokens). Both `HttpOnly` and `SameSite=Strict`, `Secure` under TLS.
enum WebSessionCookie {
    static let name = "tally_session"
    static let formName = "tally_form"
    /// How long a sign-in lasts.
    static let lifetimeSeconds: Double = 12 * 3600

    /// A random value for a cookie or a form token: 32 bytes, base64url.
    static func randomValue() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A cookie of the pages; `maxAge` 0 deletes it.
    static func make(_ name: String, value: String, maxAge: Int, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }
}
