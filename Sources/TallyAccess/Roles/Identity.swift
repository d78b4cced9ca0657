import TallyProtocol
import TallyStore

/// Who is making a request: the token that authenticated it (nil in the open loopback mode a
/// coordinator without tokens runs in, where every request acts as an admin).
package struct Identity: Sendable {
    package var token: AccessToken?
    /// The web session the request came with, when it came with one instead of a bearer secret.
    package var session: WebSession?

    /// A value with every field given.
    package init(token: AccessToken? = nil, session: WebSession? = nil) {
        self.token = token
        self.session = session
    }

    /// The open mode's identity.
    package static let open = Identity(token: nil)

    package var user: String { token?.user ?? "local" }
    package var role: Role { token?.role ?? .admin }
    /// What leases remember: the token's id.
    package var tokenId: String { token?.id ?? "" }

    /// Whether this identity may see and act on a job owned by `owner`.
    package func mayAccess(jobOwnedBy owner: String?) -> Bool {
        role == .admin || owner == user
    }
}
