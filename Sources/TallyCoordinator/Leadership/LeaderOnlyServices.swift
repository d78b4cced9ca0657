import Logging
import ServiceLifecycle

/// Runs the singleton services — planning, lease expiry and retention, the final merge,
/// schedules, notifications — only while this replica leads: they start when it wins a term
/// and are cancelled when it loses it, then wait for the next term (docs/design.md §3.10).
struct LeaderOnlyServices: Service {
    let election: LeaderElection
    /// Each service's maker: a service is made afresh for each term (and each restart), so its
    /// state does not outlive it.
    let services: [@Sendable () -> any Service]
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await election.waitUntilLeading()
                guard !Task.isCancelled else { return }
                await withTaskGroup(of: Void.self) { group in
                    for make in services {
                        group.addTask {
                            // A service that fails (its store unreachable at start, say) is started
                            // again, afresh, a second later, for as long as the term lasts.
                            while !Task.isCancelled {
                                do {
                                    try await make().run()
                                    return
                                } catch {
                                    guard !Task.isCancelled else { return }
                                    logger.error("singleton service failed; starting it again", metadata: ["error": "\(error)"])
                                    try? await Task.sleep(for: .seconds(1))
                                }
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
