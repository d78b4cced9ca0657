import Hummingbird
import Prometheus
import TallyServices
import TallyStore

/// `/healthz` (the process answers) and `/readyz` (it reaches its store) for load balancers and
/// Kubernetes, and `/metrics` for Prometheus.
struct ServiceRoutes: Sendable {
    let store: any JobStore
    let metrics: CoordinatorMetrics
    /// The registry the process's metrics backend writes to.
    let registry: PrometheusCollectorRegistry
    let clock: any CoordinatorClock

    /// `/healthz`: the one route that needs no token (added before the authentication middleware).
    func addHealth(to router: Router<CoordinatorRequestContext>) {
        router.get("healthz") { _, _ in "ok\n" }
        // `/readyz`: whether this replica can reach its store. A replica that cannot (PostgreSQL
        // down or unreachable) is taken out of the load balancer while the others serve.
        router.get("readyz") { _, _ -> Response in
            do {
                // A probe waits 2 s at most: a pool still trying to connect does not hold it.
                _ = try await Deadline.run(seconds: 2, expired: { _ in CoordinatorError.storage("store unreachable") }) {
                    try await store.jobCounts()
                }
                return Self.text(.ok, "ready\n")
            } catch {
                return Self.text(.serviceUnavailable, "store unreachable\n")
            }
        }
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func addMetrics(to router: SecuredRouter) {
        router.get("metrics", .getMetrics) { _, _ in try await scrape() }
    }

    private func scrape() async throws -> Response {
        metrics.updateStates(jobs: try await store.jobCounts(), tasks: try await store.taskCounts())
        metrics.expireWorkers(now: clock.now())
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}
