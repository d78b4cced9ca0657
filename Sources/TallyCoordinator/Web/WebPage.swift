import Foundation
import Hummingbird
import Logging
import TallyAccess
import TallyWeb

/// Answers of the pages: HTML, redirects.
enum WebPage {
    /// Every zone a form offers, sorted.
    static let zones = (TimeZone.knownTimeZoneIdentifiers + ["UTC"]).sorted()

    /// An HTML page.
    static func html(_ text: String, status: HTTPResponse.Status = .ok, cookies: [Cookie] = []) -> Response {
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// A page: `template` rendered with `data` (and the form token) inside the layout.
    static func render(
        _ template: String, title: String, data: [String: Any], identity: Identity, request: Request, secure: Bool,
        signedIn: Bool = true, status: HTTPResponse.Status = .ok
    ) -> Response {
        let (formToken, cookie) = FormGuard.token(for: request, identity: identity, secure: secure)
        var data = data
        data["formToken"] = formToken
        let content = WebTemplates.library.render(withoutAbsentValues(data) ?? [:], withTemplate: template) ?? ""
        // The open mode (no token exists, loopback only) has nobody to sign out.
        let shown = signedIn && identity.session != nil
        let page =
            WebTemplates.library.render(
                [
                    "title": title, "content": content, "signedIn": shown, "isAdmin": shown && identity.role == .admin,
                    "user": identity.user,
                    "role": identity.role.rawValue, "formToken": formToken,
                ] as [String: Any], withTemplate: "layout") ?? ""
        return html(page, status: status, cookies: cookie.map { [$0] } ?? [])
    }

    /// `value` with every absent optional left out (a dictionary loses the key), so that a
    /// template's `{{#x}}` section is skipped for nil instead of printing "nil".
    static func withoutAbsentValues(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return withoutAbsentValues(wrapped)
        }
        if let dictionary = value as? [String: Any] {
            return dictionary.compactMapValues { withoutAbsentValues($0) }
        }
        if let array = value as? [Any] {
            return array.compactMap { withoutAbsentValues($0) }
        }
        return value
    }

    /// A page saying what went wrong: the reason of an HTTP error, or only the request id of an
    /// unexpected one (which is logged).
    static func error(_ error: any Error, requestUUID: String, logger: Logger) -> Response {
        let (status, message): (HTTPResponse.Status, String)
        if let error = (error as? APIError) ?? (error as? JobError).map(APIError.init) {
            (status, message) = (error.status, error.body.error)
        } else {
            logger.error("page failed", metadata: ["request_id": "\(requestUUID)", "error": "\(error)"])
            (status, message) = (.internalServerError, "internal error (request \(requestUUID))")
        }
        let content =
            WebTemplates.library.render(["status": "\(status.code) \(status.reasonPhrase)", "message": message], withTemplate: "error")
            ?? ""
        let page =
            WebTemplates.library.render(["title": "\(status.code)", "content": content] as [String: Any], withTemplate: "layout") ?? ""
        return html(page, status: status)
    }

    /// `303 See Other` to `path` (after a form, or to the sign-in page).
    static func redirect(to path: String, clearingSession: Bool = false, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: path, .cacheControl: "no-store"])
        if clearingSession { response.setCookie(WebSessionCookie.make(WebSessionCookie.name, value: "", maxAge: 0, secure: false)) }
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }
}
