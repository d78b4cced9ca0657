/// Whose partials the shard cache keeps and whose workers get merge tasks (docs/security.md),
/// as SQL every store runs: the rule is written once for SQLite and PostgreSQL alike.
package enum TrustedProducer {
    /// SQL that holds when `column` names a producer the cache trusts: a worker token an admin
    /// marked trusted and did not revoke, or the open mode's '' (no tokens: a loopback-only
    /// coordinator that every local process could drive anyway).
    package static func sql(_ column: String) -> String {
        "(\(column) = '' OR \(column) IN (SELECT id FROM tokens WHERE trusted = 1 AND revoked_at IS NULL))"
    }
}
