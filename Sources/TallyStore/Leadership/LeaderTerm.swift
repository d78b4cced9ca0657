import Synchronization

/// The term this replica leads in, as its election last saw it: what a shared store's
/// singleton writes are fenced with (a write names the term, and the store refuses it unless
/// the leader row still holds that term for this replica).
package final class LeaderTerm: Sendable {
    /// This replica's name in the leader row.
    package let holder: String
    private let current = Mutex<Int64?>(nil)

    /// No term yet.
    package init(holder: String) {
        self.holder = holder
    }

    /// The term held now, or nil.
    package var term: Int64? { current.withLock { $0 } }

    /// Records the election's outcome.
    package func set(_ term: Int64?) {
        current.withLock { $0 = term }
    }
}
