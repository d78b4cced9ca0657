import Hummingbird
import TallyAccess

/// Cross-site request forgery defence for every form the pages post (docs/security.md): the
/// form must carry the form token of the session it is posted with (or, signed out, the value of
/// the form cookie, which only this site's pages can have read), and a browser's `Origin` and
/// `Sec-Fetch-Site` headers, when sent, must say the form came from this site.
enum FormGuard {
    /// The form token the page's forms carry, and the form cookie to set when one is needed.
    static func token(for request: Request, identity: Identity, secure: Bool) -> (token: String, cookie: Cookie?) {
        if let session = identity.session { return (session.formToken, nil) }
        if let existing = request.cookies[WebSessionCookie.formName]?.value, existing.utf8.count >= 32 { return (existing, nil) }
        let value = WebSessionCookie.randomValue()
        return (
            value,
            WebSessionCookie.make(WebSessionCookie.formName, value: value, maxAge: Int(WebSessionCookie.lifetimeSeconds), secure: secure)
        )
    }

    /// Refuses (`403`, with the reason) a form posted from another site or without its token.
    static func check(_ request: Request, submitted: String?, identity: Identity) throws {
        try requireSameOrigin(request, what: "a form")
        let expected = identity.session?.formToken ?? request.cookies[WebSessionCookie.formName]?.value
        guard let expected, let submitted, !expected.isEmpty,
            TokenSecret.constantTimeEqual(Array(expected.utf8), Array(submitted.utf8))
        else {
            throw APIError(.forbidden, "the form's token is missing or stale; reload the page and send it again")
        }
    }

    /// Refuses (`403`) a request a browser says came from another site or origin: `Sec-Fetch-Site`
    /// other than `same-origin` or `none` (a page on another port of the same host is `same-site`,
    /// and refused too), or an `Origin` whose host and port are not the request's `Host`.
    /// Clients that are not browsers send neither header and pass.
    static func requireSameOrigin(_ request: Request, what: String) throws {
        if let site = request.headerValue("Sec-Fetch-Site"), site != "same-origin", site != "none" {
            throw APIError(.forbidden, "\(what) sent from another site (Sec-Fetch-Site: \(site)) is refused")
        }
        if let origin = request.headerValue("Origin") {
            // HTTP/1's Host header becomes the request's authority (a Host field, where one is left, wins).
            let host = request.headerValue("Host") ?? request.head.authority
            let bare = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
            guard let host, bare == host else { throw APIError(.forbidden, "\(what) sent from another origin (\(origin)) is refused") }
        }
    }
}
