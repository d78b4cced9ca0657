import Logging
import Synchronization
import TallyServices

/// Refused secrets and sign-ins, counted, logged and throttled per client (docs/security.md,
/// "Guessing secrets"): each refusal is counted in `tally_authentication_failures_total` by
/// reason and logged with the client's address; a client refused `maximumFailures` times
/// (`max_refused_secrets_per_minute`, 0: never) within `windowSeconds` is answered `429` without a
/// look at its secret until `windowSeconds` after its last refusal. Secrets are 256-bit random, so throttling does not protect them: it makes a
/// guessing client loud and cheap to serve. Time comes from the injected clock.
final class AuthenticationFailures: Sendable {
    /// The default of `max_refused_secrets_per_minute`.
    static let defaultMaximumFailures = 10
    static let windowSeconds: Double = 60
    /// Clients remembered at most (the oldest go first), so addresses cannot grow the table.
    static let maximumClients = 10_000

    private struct Client {
        var failures: [Double] = []
        var last: Double = 0
    }

    private let clients = Mutex<[String: Client]>([:])
    let maximumFailures: Int
    private let metrics: CoordinatorMetrics
    private let clock: any CoordinatorClock
    private let logger: Logger

    init(maximumFailures: Int = defaultMaximumFailures, metrics: CoordinatorMetrics, clock: any CoordinatorClock, logger: Logger) {
        self.maximumFailures = maximumFailures
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    /// `429` with `Retry-After` when the client is throttled now.
    func checkNotThrottled(client: String) throws {
        guard maximumFailures > 0 else { return }
        let now = clock.now()
        let maximumFailures = self.maximumFailures
        let until: Double? = clients.withLock { clients in
            guard let entry = clients[client] else { return nil }
            let recent = entry.failures.filter { now - $0 < Self.windowSeconds }
            return recent.count >= maximumFailures ? entry.last + Self.windowSeconds : nil
        }
        guard let until, until > now else { return }
        metrics.authenticationRefused(reason: "throttled")
        var error = APIError(
            .tooManyRequests, "too many refused secrets from \(client); try again in \(Int64(saturating: (until - now).rounded(.up))) s")
        error.headers[.retryAfter] = String(Int64(saturating: (until - now).rounded(.up)))
        throw error
    }

    /// Records a refusal: counted, logged with the client, remembered for throttling.
    func record(client: String, reason: String, message: String) {
        let now = clock.now()
        metrics.authenticationRefused(reason: reason)
        logger.warning("secret refused", metadata: ["client": "\(client)", "reason": "\(reason)", "detail": "\(message)"])
        guard maximumFailures > 0 else { return }
        let keep = maximumFailures - 1
        clients.withLock { clients in
            var entry = clients[client] ?? Client()
            entry.failures = entry.failures.filter { now - $0 < Self.windowSeconds }.suffix(keep) + [now]
            entry.last = now
            clients[client] = entry
            if clients.count > Self.maximumClients {
                for (name, _) in clients.sorted(by: { $0.value.last < $1.value.last }).prefix(clients.count - Self.maximumClients) {
                    clients[name] = nil
                }
            }
        }
    }
}
