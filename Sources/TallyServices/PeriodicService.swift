import ServiceLifecycle

/// The loop every background service of the coordinator runs: a pass, then a pause of
/// `interval` seconds on the injected clock (ended early by `wakeup`), until graceful shutdown
/// or cancellation, which also reach a pass under way as task cancellation.
package enum PeriodicService {
    package static func run(
        every interval: Double, on clock: any CoordinatorClock, wakeup: Wakeup? = nil, _ pass: @escaping @Sendable () async -> Void
    ) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass()
                guard !Task.isCancelled else { return }
                if let wakeup {
                    await wakeup.wait(seconds: interval, on: clock)
                } else {
                    try? await clock.sleep(seconds: interval)
                }
            }
        }
    }
}
