import Hummingbird
import Prometheus
import TallyServices
import TallyStore

/// `/healthz` for load balancers and `/metrics` for Prometheus.
struct ServiceRoutes: Sendable {
    let store: any JobStore
    let metrics: CoordinatorMetrics
    /// The registry the process's metrics backend writes to.
    let registry: PrometheusCollectorRegistry
    let clock: any CoordinatorClock

    /// `/healthz`: the one route that needs no token (added before the authentication middleware).
    func addHealth(to router: Router<CoordinatorRequestContext>) {
        router.get("healthz") { _, _ in "ok\n" }
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
