import Dispatch

/// Runs CPU-heavy or blocking work (merging partials, decoding and writing uploads) on a
/// Dispatch thread instead of Swift's cooperative pool, which has one thread per core: on a
/// 2-core machine a long merge must not stop the server from answering heartbeats.
enum BlockingWork {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
