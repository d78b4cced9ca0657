import Synchronization
import TallyReport
import TallySources

/// One object downloaded whole, raced by a second request for the rest of it when the first
/// falls behind the worker's typical reads (`ReadHedging`): the first to finish wins and the
/// other is cancelled. The prefix the first read had when the hedge started is kept, so the
/// hedge asks only for the rest (a range request). Both reads mark the deadline's progress, so
/// the stall and budget deadlines cut the pair only when neither moves.
enum HedgedDownload {
    /// The object's bytes (at most its listed size plus one: more is caught by the caller's
    /// size check). `hedged` hears the offset a hedge started from.
    static func run(
        _ object: LogObject, named name: String, from source: any LogSource, limits: SourceRetryPolicy, hedging: ReadHedging,
        hedged: @escaping @Sendable (_ offset: Int) -> Void
    ) async throws -> [UInt8] {
        let limit = object.size + 1
        let first = Received()
        let shared = Shared()
        let wait = hedging.hedgeAfter(bytes: object.size)
        try await ReadDeadline.enforce(
            on: name, stallSeconds: limits.stallSeconds, budgetSeconds: limits.readBudgetSeconds(size: object.size)
        ) {
            progress in
            let bytes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    do {
                        try await source.read(object) { chunk in
                            progress.mark()
                            try first.append(chunk, limit: limit, name: name)
                        }
                        return .bytes(first.take())
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        return .failed(error)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(wait))
                    guard hedging.takeHedge() else { return .noHedge }
                    let prefix = first.snapshot()
                    shared.started.withLock { $0 = true }
                    hedged(prefix.count)
                    let rest = Received()
                    do {
                        try await source.read(object, from: Int64(prefix.count)) { chunk in
                            progress.mark()
                            try rest.append(chunk, limit: limit - Int64(prefix.count), name: name)
                        }
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        return .noHedge  // the first read carries on; its own errors decide
                    }
                    return .bytes(prefix + rest.take())
                }
                var failure: (any Error)? = nil
                var left = 2
                while let outcome = try await group.next() {
                    left -= 1
                    switch outcome {
                    case .bytes(let bytes):
                        group.cancelAll()
                        return bytes
                    case .failed(let error):
                        // Wait for a hedge under way; one not started yet will not be.
                        guard shared.started.withLock({ $0 }), left > 0 else {
                            group.cancelAll()
                            throw error
                        }
                        failure = error
                    case .noHedge:
                        if let failure { throw failure }
                    }
                }
                throw failure ?? CancellationError()
            }
            shared.result.withLock { $0 = bytes }
        }
        return shared.result.withLock { $0 }
    }

    /// How one of the two reads ended.
    private enum Outcome: Sendable {
        case bytes([UInt8])
        case failed(any Error)
        case noHedge
    }

    /// What the two reads and the caller share: whether the hedge started, and the winner's bytes.
    private final class Shared: Sendable {
        let started = Mutex(false)
        let result = Mutex<[UInt8]>([])
    }

    /// Bytes received by one read, read by the other when it starts.
    private final class Received: Sendable {
        private let bytes = Mutex<[UInt8]>([])

        func append(_ chunk: UnsafeRawBufferPointer, limit: Int64, name: String) throws {
            try bytes.withLock { bytes in
                // More than listed: stop early, the caller's size check names it.
                guard Int64(bytes.count + chunk.count) <= limit else {
                    throw SourceError(.truncated, location: name, detail: "more bytes than the \(limit - 1) listed")
                }
                bytes.append(contentsOf: chunk)
            }
        }

        func snapshot() -> [UInt8] { bytes.withLock { $0 } }

        func take() -> [UInt8] { bytes.withLock { $0 } }
    }
}
