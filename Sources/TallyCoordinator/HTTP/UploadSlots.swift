import Synchronization

/// How many partial uploads the coordinator receives at once (`max_concurrent_uploads`): each
/// one holds its decoded partial in memory for a moment, so their number bounds that memory.
/// One more is answered `503` with `Retry-After`, which workers retry.
final class UploadSlots: Sendable {
    let capacity: Int
    private let taken = Mutex(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes a slot; false when all are taken.
    func take() -> Bool {
        taken.withLock { count -> Bool in
            guard count < capacity else { return false }
            count += 1
            return true
        }
    }

    /// Gives a taken slot back.
    func giveBack() {
        taken.withLock { $0 -= 1 }
    }
}
