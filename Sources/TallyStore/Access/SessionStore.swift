/// A signed-in browser as stored (docs/security.md): the token it signed in with, its form
/// token (what its forms must carry back) and when it ends.
package struct WebSession: Sendable, Equatable {
    package var token: AccessToken
    /// Carried in every form the session's pages post; compared before the form is acted on.
    package var formToken: String
    package var expiresAt: Double

    /// A value with every field given.
    package init(token: AccessToken, formToken: String, expiresAt: Double) {
        self.token = token
        self.formToken = formToken
        self.expiresAt = expiresAt
    }
}

/// Web sessions behind one protocol, like tokens. Times are seconds since the epoch.
package protocol SessionStore: Sendable {
    /// Stores a session whose cookie hashes to `idHash`.
    func createSession(idHash: [UInt8], tokenId: String, formToken: String, expiresAt: Double, now: Double) async throws
    /// The session whose cookie hashes to `idHash`, with its token, while both are valid at `now`.
    func session(idHash: [UInt8], now: Double) async throws -> WebSession?
    /// Ends a session.
    func deleteSession(idHash: [UInt8]) async throws
}
