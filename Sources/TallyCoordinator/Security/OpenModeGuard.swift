import Hummingbird
import TallyProtocol

/// Keeps web pages from driving a coordinator in its open mode (no token exists: loopback only,
/// every request served as an admin; docs/security.md, "A hostile web page"). A page the
/// operator's browser opens can reach loopback too, so:
///
/// - a request whose `Host` is neither a loopback name or address nor the listen address is
///   refused: a DNS-rebinding page's requests carry its own host name;
/// - a request that changes anything is refused when the browser says it came from another
///   site or origin (`FormGuard.requireSameOrigin`);
/// - JSON and binary bodies must be declared as such (`JSONBody.requireContentType`), which a
///   page cannot do across sites without a CORS preflight the coordinator never grants.
enum OpenModeGuard {
    static func check(_ request: Request, listenHost: String) throws {
        // HTTP/1's Host becomes the authority; clients that are not browsers may send none (HTTP/1.0).
        if let authority = request.headerValue("Host") ?? request.head.authority {
            let host = LoopbackAddress.host(ofAuthority: authority)
            guard LoopbackAddress.contains(host) || host.lowercased() == listenHost.lowercased() else {
                throw APIError(
                    .forbidden, "Host '\(authority)' is not this coordinator's address; without tokens it answers only to loopback names")
            }
        }
        if request.method != .get, request.method != .head {
            try FormGuard.requireSameOrigin(request, what: "a request")
        }
    }
}
