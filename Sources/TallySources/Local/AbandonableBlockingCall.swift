import NIOPosix
import Synchronization

/// Runs a blocking system call (`open`, `read`, a directory walk) on NIO's thread pool, off
/// Swift's cooperative pool, and lets the caller walk away from it when cancelled.
///
/// A read from a hung NFS server or an idle pipe blocks its thread and ignores cancellation; the
/// read deadline (docs/design.md §3.3) must still cut it. So the awaiting task resumes with
/// `CancellationError` at once, and the thread finishes the call whenever it can, its result
/// dropped. `body` must keep what it touches alive itself (capture owners, not raw pointers).
enum AbandonableBlockingCall {
    /// The threads local file calls run on: a pool of their own, so reads stuck on a hung mount
    /// (each holds its thread until the kernel gives up) never starve the process's other
    /// blocking work on NIO's shared pool. It lives as long as the process, like that one.
    static let fileThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    static func run<T: Sendable>(on pool: NIOThreadPool = fileThreads, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let gate = Gate<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                guard gate.install(continuation) else { return }
                pool.submit { state in
                    guard state == .active else { return gate.finish(.failure(CancellationError())) }
                    gate.finish(Result { try body() })
                }
            }
        } onCancel: {
            gate.finish(.failure(CancellationError()))
        }
    }

    /// Resumes the continuation exactly once: with the call's result or with cancellation,
    /// whichever comes first.
    private final class Gate<T: Sendable>: Sendable {
        private enum State {
            case waiting
            case installed(CheckedContinuation<T, any Error>)
            case finished
        }
        private let state = Mutex<State>(.waiting)

        /// False when the caller was cancelled before the call started (the continuation is
        /// resumed with cancellation here).
        func install(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
            let installed = state.withLock { state -> Bool in
                guard case .waiting = state else { return false }
                state = .installed(continuation)
                return true
            }
            if !installed { continuation.resume(throwing: CancellationError()) }
            return installed
        }

        func finish(_ result: Result<T, any Error>) {
            let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
                switch state {
                case .installed(let continuation):
                    state = .finished
                    return continuation
                case .waiting:
                    state = .finished
                    return nil
                case .finished:
                    return nil
                }
            }
            continuation?.resume(with: result)
        }
    }
}
