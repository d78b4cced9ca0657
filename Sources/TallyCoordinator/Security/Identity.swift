import TallyProtocol
import TallyStore

/// Who is making a request: the token that authenticated it (nil in the open loopback mode a
/// coordinator without tokens runs in, where every request acts as an admin).
struct Identity: Sendable {
    var token: AccessToken?
    /// The web session the request came with, when it came with one instead of a bearer secret.
    var session: WebSession?

    /// The open mode's identity.
    static let open = Identity(token: nil)

    var user: String { token?.user ?? "local" }
    var role: Role { token?.role ?? .admin }
    /// What leases remember: the token's id.
    var tokenId: String { token?.id ?? "" }

    /// Whether this identity may see and act on a job owned by `owner`.
    func mayAccess(jobOwnedBy owner: String?) -> Bool {
        role == .admin || owner == user
    }
}
