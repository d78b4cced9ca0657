import Logging
import ServiceLifecycle

/// Runs the singleton services — planning, lease expiry and retention, the final merge,
/// schedules, notifications — only while this replica leads: they start when it wins a term
/// and are cancelled when it loses it, then wait for the next term (docs/design.md §3.10).
struct LeaderOnlyServices: Service {
    let election: LeaderElection
    /// Made afresh for each term: a service's state does not outlive its term.
    let services: @Sendable () -> [any Service]
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await election.waitUntilLeading()
                guard !Task.isCancelled else { return }
                await withTaskGroup(of: Void.self) { group in
                    for service in services() {
                        group.addTask {
                            do {
                                try await service.run()
                            } catch {
                                logger.error("singleton service failed", metadata: ["error": "\(error)"])
                            }
                        }
                    }
                    await election.waitUntilDeposed()
                    if !Task.isCancelled { logger.info("not leading any more: singleton services stopped") }
                    group.cancelAll()
                }
            }
        }
    }
}
