import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The coordinator: an HTTP server (Hummingbird) and a scheduler loop over one durable store,
/// run as ServiceLifecycle services with graceful shutdown.
public struct Coordinator: Sendable {
    /// The configuration in force.
    public let configuration: CoordinatorConfiguration
    let store: JobStore
    let files: DataDirectory
    let metrics = CoordinatorMetrics()
    let merges: RunningMerges
    let wakeup = SchedulerWakeup()
    let logger: Logger

    /// Opens the data directory and job store.
    public init(configuration: CoordinatorConfiguration, logger: Logger = Logger(label: "tally.coordinator")) throws {
        self.configuration = configuration
        self.logger = logger
        files = try DataDirectory(root: configuration.dataDirectory)
        store = try JobStore(path: files.databasePath)
        merges = RunningMerges(files: files)
    }

    /// The router with every route; tests drive it in-process.
    func router() -> Router<CoordinatorRequestContext> {
        let router = Router(context: CoordinatorRequestContext.self)
        router.get("healthz") { _, _ in "ok\n" }
        router.get("metrics") { _, _ in try metricsResponse() }
        JobRoutes(store: store, files: files, configuration: configuration, wakeup: wakeup).add(to: router)
        WorkerRoutes(store: store, files: files, configuration: configuration, metrics: metrics,
                     merges: merges, wakeup: wakeup, logger: logger).add(to: router)
        return router
    }

    /// The scheduler service.
    func scheduler() -> JobScheduler {
        JobScheduler(store: store, files: files, configuration: configuration, metrics: metrics,
                     merges: merges, wakeup: wakeup, logger: logger)
    }

    /// The HTTP application with the scheduler attached; `onListening` receives the bound port.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: .init(address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: "tally"),
            services: [scheduler()],
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.listenPort) },
            logger: logger)
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: application(onListening: onListening))],
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    private func metricsResponse() throws -> Response {
        metrics.updateStates(
            jobs: Dictionary(uniqueKeysWithValues: try store.jobCounts().map { ($0.key.rawValue, $0.value) }),
            tasks: try store.taskCounts())
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
}
