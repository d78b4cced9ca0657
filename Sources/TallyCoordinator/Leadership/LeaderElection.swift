import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TallyStore

/// Who among the replicas sharing a store does the singleton work (docs/design.md §3.10): every
/// third of `termSeconds` a replica takes or renews the leader lease for `termSeconds`, and leads
/// until one second before that lease ends, by its own monotonic clock, however the renewal went.
/// A replica that was paused past its lease finds it is no longer leading before it acts again.
final class LeaderElection: Service, Sendable {
    let lease: any LeaderLease
    /// This replica's name in the leader row, and the term the store's fenced writes name.
    let current: LeaderTerm
    var holder: String { current.holder }
    let termSeconds: Double
    private let term: Duration
    let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var term: Int64?
        var until: ContinuousClock.Instant?
        var lastSkewWarning: ContinuousClock.Instant?
    }

    /// River's timings by default: elect every 5 s, a lease of 15 s.
    init(lease: any LeaderLease, current: LeaderTerm, termSeconds: Double = 15, logger: Logger) {
        self.lease = lease
        self.current = current
        self.termSeconds = termSeconds
        term = .milliseconds(Int64(termSeconds * 1000))
        self.logger = logger
    }

    /// The term this replica leads in now, or nil.
    var leadingTerm: Int64? {
        state.withLock { state in
            guard let until = state.until, ContinuousClock.now < until else { return nil }
            return state.term
        }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.claim()
                try? await Task.sleep(for: self.term / 3)
            }
        }
        // A replica going away hands over at once rather than after its lease runs out.
        if leadingTerm != nil { try? await lease.releaseLeadership(holder: holder) }
        state.withLock { $0 = State() }
        current.set(nil)
    }

    /// One election: take or renew the lease; the outcome is what `leadingTerm` tells.
    func claim() async {
        let asked = ContinuousClock.now
        let won: Int64?
        do {
            won = try await lease.claimLeadership(holder: holder, seconds: termSeconds)
        } catch {
            logger.warning("leader election failed; not leading until it succeeds", metadata: ["error": "\(error)"])
            won = nil
        }
        let before = state.withLock { state in
            // The term held before, even one that ran out while this process was paused.
            let before = state.term
            state.term = won
            // Counted from when the claim was sent, one second short: the database's lease runs
            // from when it ran the statement, later than that.
            state.until = won == nil ? nil : asked + term - .seconds(1)
            return before
        }
        current.set(won)
        await checkClock()
        if before != won {
            logger.info(won.map { "leading in term \($0)" } ?? "not leading", metadata: ["replica": "\(holder)"])
        }
    }

    /// Leases, heartbeats and expiries are timed by each replica's own clock: replicas whose
    /// clocks disagree by more than a second (no NTP) cut or stretch each other's leases. Said
    /// once a minute while it lasts.
    private func checkClock() async {
        let sent = Date().timeIntervalSince1970
        guard let store = try? await lease.storeClock() else { return }
        let local = (sent + Date().timeIntervalSince1970) / 2
        let skew = local - store
        guard abs(skew) > 1 else { return }
        let warn = state.withLock { state in
            guard state.lastSkewWarning.map({ ContinuousClock.now - $0 > .seconds(60) }) ?? true else { return false }
            state.lastSkewWarning = ContinuousClock.now
            return true
        }
        if warn {
            logger.warning(
                "this replica's clock is off the database's: leases are timed by each replica's clock; run NTP",
                metadata: ["skew_seconds": "\(String(format: "%.1f", skew))"])
        }
    }

    /// Returns once this replica leads.
    func waitUntilLeading() async {
        await wait { $0 != nil }
    }

    /// Returns once this replica no longer leads (its lease ran out or another took it).
    func waitUntilDeposed() async {
        await wait { $0 == nil }
    }

    /// Returns once `leadingTerm` meets `condition`, or when cancelled.
    private func wait(until condition: (Int64?) -> Bool) async {
        while !Task.isCancelled, !condition(leadingTerm) {
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
