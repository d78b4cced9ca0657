import TallyProtocol

/// Tokens behind one protocol, like jobs (`JobStore`): routes, the authentication middleware and
/// `tally token` do not know which database holds them. Times are seconds since the epoch.
package protocol TokenStore: Sendable {
    /// Stores a new token for `secretHash`; returns it.
    func createToken(
        user: String, role: Role, trusted: Bool, secretHash: [UInt8], fingerprint: String, expiresAt: Double?,
        now: Double
    ) async throws -> AccessToken
    /// The token whose secret hashes to `secretHash`, valid or not.
    func token(secretHash: [UInt8]) async throws -> (AccessToken, storedHash: [UInt8])?
    /// Every token, newest first.
    func tokens() async throws -> [AccessToken]
    /// Marks a worker token trusted or not; false when there is no such token.
    func setTrusted(_ id: String, _ trusted: Bool) async throws -> Bool
    /// Revokes a token; false when there is no such token.
    func revokeToken(_ id: String, now: Double) async throws -> Bool
    /// Whether any token exists (revoked and expired ones count: once tokens are in use, the
    /// coordinator never falls back to its open loopback mode).
    func hasTokens() async throws -> Bool
}
