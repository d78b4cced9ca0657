import Synchronization

/// How often each job was announced again on request (`POST /v1/jobs/{id}/notify`): at most
/// `limit` times in any `windowSeconds`. Kept in memory: a restart forgets it, which at worst
/// allows one more hour's `limit`.
package final class Announcements: Sendable {
    package static let limit = 3
    package static let windowSeconds: Double = 3600
    /// Jobs remembered at most (the oldest go first).
    package static let maximumJobs = 10_000

    private let times = Mutex<[String: [Double]]>([:])

    package init() {}

    /// Counts one announcement of `jobId` at `now`; nil when allowed, else the seconds until the
    /// next one is.
    package func take(_ jobId: String, now: Double) -> Double? {
        times.withLock { times in
            let recent = (times[jobId] ?? []).filter { now - $0 < Self.windowSeconds }
            guard recent.count < Self.limit else {
                times[jobId] = recent
                return (recent.min() ?? now) + Self.windowSeconds - now
            }
            times[jobId] = recent + [now]
            if times.count > Self.maximumJobs {
                for (id, _) in times.sorted(by: { ($0.value.last ?? 0) < ($1.value.last ?? 0) }).prefix(times.count - Self.maximumJobs) {
                    times[id] = nil
                }
            }
            return nil
        }
    }
}
