/// A signed-in browser as stored (docs/security.md): the token it signed in with, its form
/// token (what its forms must carry back) and when it ends.
struct WebSession: Sendable, Equatable {
    var token: AccessToken
    /// Carried in every form the session's pages post; compared before the form is acted on.
    var formToken: String
    var expiresAt: Double
}

/// Web sessions behind one protocol, like tokens. Times are seconds since the epoch.
protocol SessionStore: Sendable {
    /// Stores a session whose cookie hashes to `idHash`.
    func createSession(idHash: [UInt8], tokenId: String, formToken: String, expiresAt: Double, now: Double) async throws
    /// The session whose cookie hashes to `idHash`, with its token, while both are valid at `now`.
    func session(idHash: [UInt8], now: Double) async throws -> WebSession?
    /// Ends a session.
    func deleteSession(idHash: [UInt8]) async throws
}
