import Synchronization

/// Wakes one background service early: a submitted job is planned at once, a full batch of
/// activity rows written at once, instead of at the next tick. Each service that can be woken
/// owns one (`PeriodicService`).
///
/// Signals do not queue up: any number of them before the next `wait` ends one wait. One task
/// waits at a time (the service's loop); a second concurrent waiter is a programming error.
package final class Wakeup: Sendable {
    private struct State {
        package var pending = false
        package var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    package init() {}

    /// Ends the current or the next `wait`.
    package func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after `seconds` on `clock`, when signalled, or when the task is cancelled,
    /// whichever is first.
    package func wait(seconds: Double, on clock: any CoordinatorClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(seconds: seconds) }
            group.addTask { await self.nextSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func nextSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    // Cancelled before the continuation was registered: the handler below
                    // found nothing to resume, so do not wait.
                    if Task.isCancelled { return true }
                    precondition(state.waiter == nil, "Wakeup has one waiter at a time")
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
