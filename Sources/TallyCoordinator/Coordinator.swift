import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import Metrics
import NIOPosix
import Prometheus
import ServiceLifecycle
import TallyAccess
import TallyNotifications
import TallyProtocol
import TallyServices
import TallySources
import TallyStore

/// The coordinator: a few ServiceLifecycle services over one durable store, with graceful
/// shutdown — the HTTP application, the `Planner` (lists sources, plans queued jobs), the
/// `JobScheduler` (lease expiry, promotion, clean-up) and the `MergePipeline` (folds partials,
/// writes results). Each owns its loop; none blocks another.
public struct Coordinator: Sendable {
    /// The configuration in force.
    public let configuration: CoordinatorConfiguration
    let store: any JobStore
    let tokens: any TokenStore
    let notifications: any NotificationStore
    let schedules: any ScheduleStore
    let sessions: any SessionStore
    let files: DataDirectory
    /// Where partials, results, cache entries and user directories are kept (`blobs:`).
    let blobs: any BlobStore
    /// The HTTP client of shared blobs, shut down by `HTTPClientOwner`.
    let blobClient = SourceHTTPClient()
    /// Who leads among the replicas of a shared store; nil when the store is this process's own.
    let election: LeaderElection?
    let clock: any CoordinatorClock
    let metrics: CoordinatorMetrics
    let registry: PrometheusCollectorRegistry
    let merges: MergePipeline
    /// Partials kept for later jobs over the same source.
    let shardCache: ShardCache
    let activity: ActivityRecorder
    let uploadSlots: UploadSlots
    let connections: ConnectionCount
    let unauthenticated: Metrics.Counter
    let authenticationFailures: AuthenticationFailures
    let announcements = Announcements()
    let plannerWakeup = Wakeup()
    /// The HTTP client of the coordinator's own source reads (listings, user directories).
    let sources = SourceHTTPClient()
    let logger: Logger

    /// Opens the data directory and job store.
    ///
    /// - Parameters:
    ///   - clock: Where "now" comes from (tests move it by hand).
    ///   - registry: The Prometheus registry `/metrics` shows; the process's metrics backend
    ///     (bootstrapped once, `PrometheusMetricsFactory(registry:)`) must write to it.
    ///   - metricsFactory: Where the coordinator's metrics go; the bootstrapped system's unless
    ///     given (tests give each coordinator its own).
    public init(
        configuration: CoordinatorConfiguration, clock: any CoordinatorClock = SystemClock(),
        registry: PrometheusCollectorRegistry = PrometheusMetricsFactory.defaultRegistry,
        metricsFactory: (any MetricsFactory)? = nil,
        logger: Logger = Logger(label: "tally.coordinator")
    ) throws {
        self.configuration = configuration
        self.clock = clock
        self.registry = registry
        self.logger = logger
        let factory = metricsFactory ?? MetricsSystem.factory
        metrics = CoordinatorMetrics(factory: factory)
        unauthenticated = Metrics.Counter(label: "tally_api_unauthenticated_total", factory: factory)
        authenticationFailures = AuthenticationFailures(
            maximumFailures: configuration.maximumRefusedSecretsPerMinute, metrics: metrics,
            clock: clock, logger: logger)
        files = try DataDirectory(
            root: configuration.dataDirectory, minimumFreeBytes: configuration.minimumFreeBytes,
            namesByLease: configuration.blobs.isShared)
        switch configuration.blobs {
        case .local:
            blobs = LocalBlobStore(files: files)
        case .s3(let url, let region, let endpoint):
            do {
                let bucket = try S3Bucket(url: url, endpoint: endpoint, region: region, client: blobClient)
                blobs = S3BlobStore(files: files, bucket: bucket, logger: logger)
            } catch {
                throw CoordinatorError.storage("blobs: \(error)")
            }
        }
        let stores = try CoordinatorStores.open(
            configuration.store, files: files, replica: configuration.replicaName ?? ReplicaName.make(), logger: logger)
        store = stores.jobs
        tokens = stores.tokens
        notifications = stores.notifications
        schedules = stores.schedules
        sessions = stores.sessions
        let election = stores.leadership.map {
            LeaderElection(lease: $0.lease, current: $0.term, termSeconds: configuration.leaderTermSeconds, logger: logger)
        }
        self.election = election
        shardCache = ShardCache(
            store: stores.shardCache, blobs: blobs, policy: configuration.shardCache, threadPool: .singleton, metrics: metrics,
            logger: logger)
        merges = MergePipeline(
            store: store, blobs: blobs, shardCache: shardCache, clock: clock, logger: logger,
            headStartLimit: configuration.effectiveMergeMemoryBytes, mergeRanges: configuration.effectiveMergeRanges,
            workerPlan: WorkerMergePlan(fromBytes: configuration.mergeOnWorkersFromBytes, taskBytes: configuration.mergeTaskBytes),
            recentWorkerSeconds: 2 * configuration.leaseSeconds, election: election)
        uploadSlots = UploadSlots(capacity: configuration.maximumConcurrentUploads)
        connections = ConnectionCount(limit: configuration.maximumConnections, perClient: configuration.maximumConnectionsPerClient)
        activity = ActivityRecorder(
            store: stores.activity, policy: configuration.activityLog,
            clock: clock, metricsFactory: factory, logger: logger)
    }

    /// The router with every route; tests drive it in-process.
    func router() -> Router<CoordinatorRequestContext> {
        routes().router
    }

    /// The router, and the role table its authenticated routes were registered with.
    func routes() -> (router: Router<CoordinatorRequestContext>, roles: RoleTable) {
        let router = Router(context: CoordinatorRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        let service = ServiceRoutes(store: store, metrics: metrics, registry: registry, clock: clock)
        service.addHealth(to: router)
        let jobs = JobRoutes(
            store: store, notifications: notifications, configuration: configuration, clock: clock,
            service: jobService(), announcements: announcements)
        let web = WebRoutes(
            jobs: jobs.service, store: store, tokens: tokens, sessions: sessions, files: files, configuration: configuration,
            clock: clock, threadPool: .singleton, failures: authenticationFailures)
        web.addPublic(to: router)
        // Every route added from here on is authenticated and held to the role table its
        // registrations fill.
        let table = RoleTable()
        let secured = SecuredRouter(router: router, table: table)
        router.add(
            middleware: AuthenticationMiddleware(
                table: table, tokens: tokens, sessions: sessions, clock: clock, activity: activity,
                unauthenticated: unauthenticated, failures: authenticationFailures,
                listenHost: configuration.listenHost, logger: logger))
        service.addMetrics(to: secured)
        let issuer = TokenService(store: tokens, clock: clock)
        let scheduleService = ScheduleService(schedules: schedules, jobs: jobService())
        let scheduleRoutes = ScheduleRoutes(service: scheduleService)
        TokenRoutes(issuer: issuer).add(to: secured)
        let activityService = ActivityService(store: activity.store, policy: configuration.activityLog)
        ActivityRoutes(service: activityService).add(to: secured)
        scheduleRoutes.add(to: secured)
        AdminPages(
            issuer: issuer, activity: activityService, schedules: scheduleService,
            configuration: configuration
        ).add(to: secured)
        jobs.add(to: secured)
        web.add(to: secured)
        WorkerRoutes(
            store: store, blobs: blobs, configuration: configuration, clock: clock, metrics: metrics,
            merges: merges, threadPool: .singleton, uploadSlots: uploadSlots, logger: logger
        ).add(to: secured)
        return (router, table)
    }

    /// The planning service; `sources` is the HTTP client of its listings, which it shuts down
    /// when it stops (a leader's planner gets one of its own each term).
    func planner(sources: SourceHTTPClient? = nil) -> Planner {
        Planner(
            store: store, blobs: blobs, shardCache: shardCache, threadPool: .singleton, configuration: configuration, clock: clock,
            merges: merges, wakeup: plannerWakeup, sources: sources ?? self.sources, logger: logger)
    }

    /// The service that submits scheduled jobs.
    func scheduleRunner() -> ScheduleRunner {
        ScheduleRunner(schedules: schedules, jobs: jobService(), logger: logger)
    }

    /// Job creation and its checks, which every door shares.
    func jobService() -> JobService {
        JobService(
            store: store, notifications: notifications, blobs: blobs, configuration: configuration, clock: clock,
            planner: plannerWakeup)
    }

    /// The service that announces job ends.
    func notifier() -> Notifier {
        Notifier(
            jobs: store, deliveries: notifications, policy: configuration.notifications, clock: clock,
            resultTTLDays: configuration.resultTTLDays, logger: logger)
    }

    /// The scheduling service.
    func scheduler() -> JobScheduler {
        JobScheduler(
            store: store, blobs: blobs, configuration: configuration, clock: clock, metrics: metrics,
            merges: merges, logger: logger)
    }

    /// One pass of the background work, finished before it returns: plan queued jobs, expire
    /// leases, merge the jobs that are merging. Tests step the coordinator with it; the services
    /// themselves run in `backgroundServices()`.
    func runOnce() async {
        // With a shared store the pass is the leader's: it is elected first.
        await election?.claim()
        await planner().runOnce()
        await scheduler().runOnce()
        for job in (try? await store.jobs(in: .merging)) ?? [] {
            await merges.merge(job)
        }
    }

    /// The services beside the HTTP server: planning, leases and retention, the merge
    /// pipeline, schedules, notifications, the activity log.
    /// With a shared store, planning, lease expiry and retention, schedules and notifications
    /// run only on the leader; every replica merges what it is asked to (the join and the
    /// result are the leader's: `MergePipeline.merge`) and appends its own activity rows.
    func backgroundServices() -> [any Service] {
        // First, so it stops last: the blob client outlives every service that uses it.
        let owner = HTTPClientOwner(client: blobClient, logger: logger)
        // With shared blobs each replica's own copies are swept by it; locally, retention does it.
        let copies: [any Service] =
            blobs.isShared ? [LocalCopySweeper(store: store, files: files, clock: clock, logger: logger)] : []
        guard let election else { return [owner, planner(), scheduler(), merges, scheduleRunner(), notifier(), activity] + copies }
        let singletons: [@Sendable () -> any Service] = [
            { [self] in planner(sources: SourceHTTPClient()) }, { [self] in scheduler() }, { [self] in scheduleRunner() },
            { [self] in notifier() },
        ]
        return [owner, election, LeaderOnlyServices(election: election, services: singletons, logger: logger), merges, activity]
            + copies
    }

    /// The router behind the 405 check: what the server and in-process tests answer with.
    func responder() -> MethodCheckingResponder<CoordinatorRequestContext> {
        MethodCheckingResponder(router: router())
    }

    /// The HTTP application (HTTPS when `tls` is configured) with the background services
    /// attached; `onListening` receives the bound port.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let timeouts = (
            head: configuration.requestHeadTimeoutSeconds, body: configuration.requestBodyTimeoutSeconds,
            idle: configuration.idleTimeoutSeconds
        )
        let http1 = HTTPServerBuilder.http1(
            configuration: .init(
                additionalChannelHandlers: [
                    ConnectionLimitHandler(count: connections),
                    RequestDeadlineHandler(
                        headSeconds: timeouts.head, bodySeconds: timeouts.body, keepAliveSeconds: timeouts.idle,
                        minimumBodyRate: configuration.minimumBodyBytesPerSecond,
                        rateWindowSeconds: configuration.bodyRateWindowSeconds),
                ],
                idleTimeout: .milliseconds(Int64(timeouts.idle * 1000))))
        let server = try configuration.tls.map { try HTTPServerBuilder.tls(http1, tlsConfiguration: try $0.tlsConfiguration()) } ?? http1
        return Application(
            responder: responder(),
            server: server,
            configuration: .init(address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: "tally"),
            services: backgroundServices(),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.listenPort) },
            logger: logger)
    }

    /// A new token in this coordinator's store (its secret in `secret`): how `tally run` gives
    /// its own workers and itself tokens.
    public func createToken(_ request: TokenRequest) async throws -> TokenInfo {
        let (token, secret) = try await TokenService(store: tokens, clock: clock).issue(request)
        return TokenService.info(token, secret: secret)
    }

    /// A coordinator without tokens serves every request as an admin, so it may only listen on
    /// loopback: elsewhere it refuses to start, with the way out in one line.
    public func checkListenAddress() async throws {
        guard try await !tokens.hasTokens() else {
            // Tokens on a network without TLS: every request carries a bearer secret in clear text.
            if !LoopbackAddress.contains(configuration.listenHost), configuration.tls == nil {
                logger.warning(
                    """
                    listening on \(configuration.listenHost) without TLS: secrets and reports cross the network in clear text; \
                    set tls: {certificate, key} in tally.yaml (docs/security.md)
                    """)
            }
            return
        }
        guard LoopbackAddress.contains(configuration.listenHost) else {
            throw CoordinatorError.unsafe(
                "refusing to listen on \(configuration.listenHost) without tokens: anyone reaching it could read every report; "
                    + "create one first: tally token create --data-dir \(configuration.dataDirectory) --role admin --user NAME")
        }
        logger.warning(
            "no tokens: listening on loopback only, every request is served as an admin; create tokens with `tally token create`")
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await checkListenAddress()
        let application = try application(onListening: onListening)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: application)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
