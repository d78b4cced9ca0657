/// The lease on the coordinator's singleton work — planning, the final merge, lease expiry,
/// schedules, notifications, retention — held by one replica at a time for a term
/// (docs/design.md §3.10).
package protocol LeaderLease: Sendable {
    /// Takes the lease for `holder`, or renews it when `holder` has it, for `seconds` of the
    /// store's own clock; the term held, or nil while another holder's lease runs. A new holder
    /// starts a new term.
    func claimLeadership(holder: String, seconds: Double) async throws -> Int64?
    /// Gives the lease up at once (a replica shutting down), when `holder` has it.
    func releaseLeadership(holder: String) async throws
    /// The store's own clock, in seconds since the epoch: leases are timed by each replica's
    /// clock, so a replica compares its own with it.
    func storeClock() async throws -> Double?
}
