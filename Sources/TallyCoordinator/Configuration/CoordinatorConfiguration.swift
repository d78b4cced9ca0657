import Foundation
import TallyAccess
import TallyFormats
import TallyNotifications
import TallyProtocol
import TallyReport
import TallyServices
import TallySources
import TallyStore
import Yams

/// The coordinator's configuration, read from `tally.yaml` (docs/design.md §5.4): listen address, data
/// directory, lease policy and the named sources jobs may read.
public struct CoordinatorConfiguration: Sendable, Equatable {
    /// Host and port to listen on.
    public var listenHost: String
    /// Port to listen on; 0 picks a free one.
    public var listenPort: Int
    /// Where the job store, partials and results live.
    public var dataDirectory: String
    /// How long a lease lasts without a heartbeat.
    public var leaseSeconds: Double
    /// Failures of one task (reported by workers) that fail its job.
    public var maxAttempts: Int
    /// Lease expiries of one task (workers lost mid-task) that fail its job.
    public var maxLeaseExpiries: Int
    /// How long results are kept after a job ends.
    public var resultTTLDays: Double
    /// How long a job's record (its status, statistics and error) is kept after it ends; at
    /// least `resultTTLDays`.
    public var jobRetentionDays: Double = 90
    /// Sources by name.
    public var sources: [String: ConfiguredSource]
    /// User directories (CSV exports of the users an inactive-users report must list) by name:
    /// a local path, `file://` or `http(s)://` URL.
    public var userDirectories: [String: String] = [:]
    /// How long listing a job's source may take, retries included, before the job fails.
    public var listingTimeoutSeconds: Double
    /// How listings (here) and reads (on workers, sent with each lease) are retried.
    public var sourceRetry = SourceRetryPolicy()
    /// A failed task waits this long before it may be leased again, doubling with each failure
    /// of the task (up to a minute), so a source that is down is not hammered.
    public var taskRetryDelaySeconds: Double = 1
    /// Space the data directory keeps free for the job store; partials and results that would
    /// eat into it are refused (0 turns the check off).
    public var minimumFreeBytes: Int64 = 64 << 20
    /// A client must send a whole request head within this many seconds (of connecting, or of
    /// the previous response), and a whole body within `requestBodyTimeoutSeconds` of its head;
    /// a connection idle for `idleTimeoutSeconds` is closed.
    public var requestHeadTimeoutSeconds: Double = 10
    public var requestBodyTimeoutSeconds: Double = 600
    public var idleTimeoutSeconds: Double = 60
    /// A request body must bring at least this many bytes in every `bodyRateWindowSeconds`
    /// (averaged over the window) or its connection is closed: a client trickling an upload
    /// holds its connection and upload slot one window at most, not `requestBodyTimeoutSeconds`.
    public var minimumBodyBytesPerSecond = 4096
    public var bodyRateWindowSeconds: Double = 10
    /// The largest partial a worker may upload; bigger ones are refused (`413`) as they arrive.
    public var maximumPartialBytes = 128 << 20
    /// The most memory one partial may take once decoded (users' estimated size); past it the
    /// upload is refused (`400`). Real partials take 2.5–6 times their bytes.
    public var maximumPartialMemoryBytes = 1 << 30
    /// The most memory one job's report merged so far (a head start folded while its tasks run)
    /// may take; past it the job is merged at the end as a stream from its partials, one block
    /// of each in memory. 0, the default, streams every job, so the coordinator's memory does
    /// not grow with the report (docs/design.md §3.8).
    public var mergeMemoryBytes = 0
    /// Ranges of users a streamed merge runs at once, each on a thread of its own (0: one per
    /// core, at most 8).
    public var mergeRanges = 0

    /// A merging job whose partials take at least this many bytes is merged by the workers, as
    /// merge tasks (docs/design.md §3.9), when a trusted worker that runs them was seen lately;
    /// smaller ones are merged in the coordinator, where they take less than a lease round.
    public var mergeOnWorkersFromBytes = 4 << 20
    /// Partial bytes one merge task reads, about: a job's ranges are its partials' bytes over
    /// this (at least one per merge worker seen, at most 64).
    public var mergeTaskBytes = 32 << 20

    /// The memory head starts may hold: none with a shared store, where the replica that receives
    /// a partial is seldom the leader that merges its job (docs/design.md §3.10).
    var effectiveMergeMemoryBytes: Int { store.isShared || blobs.isShared ? 0 : mergeMemoryBytes }
    /// The ranges a streamed merge runs at once: `mergeRanges`, or one per core.
    var effectiveMergeRanges: Int { mergeRanges > 0 ? mergeRanges : min(8, ProcessInfo.processInfo.activeProcessorCount) }
    /// Partial uploads received at once; more are answered `503` with `Retry-After`. With the
    /// ceiling above, uploads hold at most this many times `maximumPartialMemoryBytes`.
    public var maximumConcurrentUploads = 2
    /// Open client connections at most; more are closed as they are accepted.
    public var maximumConnections = 1024
    /// Open connections one client address may hold at most, so one client cannot take every
    /// place under `maximumConnections`; more are closed as they are accepted.
    public var maximumConnectionsPerClient = 32
    /// Refused secrets one client address may send within a minute before it is answered `429`
    /// for a minute (`AuthenticationFailures`); 0 turns throttling off (refusals are still counted
    /// and logged).
    public var maximumRefusedSecretsPerMinute = 10
    /// Jobs one user may have queued, running or merging at once (`429` past it).
    public var maxActiveJobsPerUser = 20
    /// When straggling tasks get a second lease.
    public var stragglers = StragglerPolicy()
    /// Serve HTTPS with this certificate and key; plain HTTP when nil.
    public var tls: ServerCertificate?
    /// Reports that run by themselves (also added through the API).
    public var schedules: [ScheduleRequest] = []
    /// Where job ends are announced.
    public var notifications = NotificationPolicy()
    /// Who is written to the API activity log by default, and for how long rows are kept.
    public var activityLog = ActivityLogPolicy()
    /// How many computed partials are kept for later jobs (`shard_cache`).
    public var shardCache = ShardCachePolicy()
    /// Where jobs, tokens, schedules and the activity log are kept.
    public var store = StoreLocation.sqlite
    /// Where partials, results, shard-cache entries and user directories are kept.
    public var blobs = BlobLocation.local
    /// This replica's name in a shared store's leader row (`TALLY_REPLICA_NAME`); unique per
    /// live process: a process that takes a name another still uses inherits its term. By
    /// default host, process id and a random part.
    public var replicaName: String?
    /// How long a replica's leader lease lasts (it is renewed every third of it, and the leader
    /// stops acting one second before it ends): how long the singleton work waits after a
    /// leader dies. River's 15 s by default.
    public var leaderTermSeconds: Double = 15
    /// The compressed bytes a task aims at (a power of two); by default about a 48th of the
    /// job's bytes (docs/design.md §3.2). Smaller makes more, shorter tasks.
    public var taskTargetBytes: Int64?

    /// How long a task that failed `failures` times waits before it may be leased again.
    public func taskRetryDelay(afterFailures failures: Int) -> Double {
        min(60, taskRetryDelaySeconds * Double(1 << min(max(failures - 1, 0), 16)))
    }

    /// A configuration; the defaults suit one machine.
    public init(
        listenHost: String = "127.0.0.1", listenPort: Int = 8080, dataDirectory: String, leaseSeconds: Double = 30,
        maxAttempts: Int = 3, maxLeaseExpiries: Int = 5, resultTTLDays: Double = 7,
        listingTimeoutSeconds: Double = 300, sources: [String: ConfiguredSource] = [:]
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.dataDirectory = dataDirectory
        self.leaseSeconds = leaseSeconds
        self.maxAttempts = maxAttempts
        self.maxLeaseExpiries = maxLeaseExpiries
        self.resultTTLDays = resultTTLDays
        self.sources = sources
        self.listingTimeoutSeconds = listingTimeoutSeconds
    }

    /// The file's shape.
    private struct File: Decodable {
        var listen: String?
        var dataDir: String?
        var leaseSeconds: Double?
        var maxAttempts: Int?
        var maxLeaseExpiries: Int?
        var resultTtlDays: Double?
        var jobRetentionDays: Double?
        var listingTimeoutSeconds: Double?
        var sourceRetry: RetryEntry?
        var taskRetryDelaySeconds: Double?
        var stragglers: StragglerEntry?
        var minFreeBytes: Int64?
        var maxPartialBytes: Int?
        var maxConcurrentUploads: Int?
        var maxPartialMemoryBytes: Int?
        var mergeMemoryBytes: Int?
        var mergeRanges: Int?
        var mergeOnWorkersFromBytes: Int?
        var mergeTaskBytes: Int?
        var maxConnections: Int?
        var maxConnectionsPerClient: Int?
        var maxRefusedSecretsPerMinute: Int?
        var minBodyBytesPerSecond: Int?
        var bodyRateWindowSeconds: Double?
        var maxActiveJobsPerUser: Int?
        var requestHeadTimeoutSeconds: Double?
        var requestBodyTimeoutSeconds: Double?
        var idleTimeoutSeconds: Double?
        var sources: [SourceEntry]?
        var activityLog: ActivityLogPolicy.Section?
        var userDirectories: [DirectoryEntry]?
        var tls: TLSEntry?
        var publicUrl: String?
        var notifications: NotificationPolicy.Section?
        var schedules: [ScheduleEntry]?
        var shardCache: ShardCacheEntry?
        var store: StoreEntry?
        var blobs: BlobEntry?
        var leaderTermSeconds: Double?
        var taskTargetBytes: Int64?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case listen, sources, stragglers, tls, store, blobs
            case leaderTermSeconds = "leader_term_seconds"
            case taskTargetBytes = "task_target_bytes"
            case shardCache = "shard_cache"
            case activityLog = "activity_log"
            case userDirectories = "user_directories"
            case publicUrl = "public_url"
            case notifications, schedules
            case dataDir = "data_dir"
            case leaseSeconds = "lease_seconds"
            case maxAttempts = "max_attempts"
            case maxLeaseExpiries = "max_lease_expiries"
            case resultTtlDays = "result_ttl_days"
            case jobRetentionDays = "job_retention_days"
            case listingTimeoutSeconds = "listing_timeout_seconds"
            case sourceRetry = "source_retry"
            case taskRetryDelaySeconds = "task_retry_delay_seconds"
            case minFreeBytes = "min_free_bytes"
            case maxPartialBytes = "max_partial_bytes"
            case maxConcurrentUploads = "max_concurrent_uploads"
            case maxPartialMemoryBytes = "max_partial_memory_bytes"
            case mergeMemoryBytes = "merge_memory_bytes"
            case mergeRanges = "merge_ranges"
            case mergeOnWorkersFromBytes = "merge_on_workers_from_bytes"
            case mergeTaskBytes = "merge_task_bytes"
            case maxConnections = "max_connections"
            case maxConnectionsPerClient = "max_connections_per_client"
            case maxRefusedSecretsPerMinute = "max_refused_secrets_per_minute"
            case minBodyBytesPerSecond = "min_body_bytes_per_second"
            case bodyRateWindowSeconds = "body_rate_window_seconds"
            case maxActiveJobsPerUser = "max_active_jobs_per_user"
            case requestHeadTimeoutSeconds = "request_head_timeout_seconds"
            case requestBodyTimeoutSeconds = "request_body_timeout_seconds"
            case idleTimeoutSeconds = "idle_timeout_seconds"
        }

        struct ShardCacheEntry: Decodable {
            var maxBytes: Int64?
            var safetyMarginSeconds: Double?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case maxBytes = "max_bytes"
                case safetyMarginSeconds = "safety_margin_seconds"
            }
        }

        struct BlobEntry: Decodable {
            var kind: String
            var url: String?
            var region: String?
            var endpoint: String?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case kind, url, region, endpoint
            }
        }

        struct StoreEntry: Decodable {
            var kind: String
            var url: String?
            var passwordFile: String?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case kind, url
                case passwordFile = "password_file"
            }
        }

        struct RetryEntry: Decodable {
            var attempts: Int?
            var initialBackoffSeconds: Double?
            var maximumBackoffSeconds: Double?
            var budgetSeconds: Double?
            var stallSeconds: Double?
            var minimumBytesPerSecond: Double?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case attempts
                case stallSeconds = "stall_seconds"
                case minimumBytesPerSecond = "minimum_bytes_per_second"
                case initialBackoffSeconds = "initial_backoff_seconds"
                case maximumBackoffSeconds = "maximum_backoff_seconds"
                case budgetSeconds = "budget_seconds"
            }
        }

        struct ScheduleEntry: Decodable {
            var name: String
            var report: String?
            var source: String
            var window: String
            var timezone: String?
            var every: String
            var weekday: String?
            var day: Int?
            var at: String
            var notify: [String]?
            var inactiveDays: Int?
            var lookbackDays: Int?
            var users: String?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case name, report, source, window, timezone, every, weekday, day, at, notify, users
                case inactiveDays = "inactive_days"
                case lookbackDays = "lookback_days"
            }

            var request: ScheduleRequest {
                ScheduleRequest(
                    name: name, report: report ?? ReportKind.activeUsers.rawValue, source: source, window: window, timezone: timezone,
                    every: every, weekday: weekday, day: day, at: at, notify: notify, inactiveDays: inactiveDays,
                    lookbackDays: lookbackDays, users: users)
            }
        }

        struct DirectoryEntry: Decodable {
            var name: String
            var url: String

            enum CodingKeys: String, CodingKey, CaseIterable {
                case name, url
            }
        }

        struct TLSEntry: Decodable {
            var certificate: String
            var key: String

            enum CodingKeys: String, CodingKey, CaseIterable {
                case certificate, key
            }
        }

        struct StragglerEntry: Decodable {
            var afterDoneShare: Double?
            var slowerThanMedian: Double?
            var floorSeconds: Double?
            var maxCopyShare: Double?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case afterDoneShare = "after_done_share"
                case slowerThanMedian = "slower_than_median"
                case floorSeconds = "floor_seconds"
                case maxCopyShare = "max_copy_share"
            }
        }

        struct SourceEntry: Decodable {
            var name: String
            var kind: String
            var url: String
            var format: String?
            var endpoint: String?
            var region: String?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case name, kind, url, format, endpoint, region
            }
        }

        /// Every key the file may hold, for `ConfigurationKeys.check`.
        static let keys = ConfigurationKeys.values(
            CodingKeys.self,
            except: [
                "sources": .list(.values(SourceEntry.CodingKeys.self)),
                "stragglers": .values(StragglerEntry.CodingKeys.self),
                "tls": .values(TLSEntry.CodingKeys.self),
                "shard_cache": .values(ShardCacheEntry.CodingKeys.self),
                "store": .values(StoreEntry.CodingKeys.self),
                "blobs": .values(BlobEntry.CodingKeys.self),
                "activity_log": ActivityLogPolicy.Section.keys,
                "user_directories": .list(.values(DirectoryEntry.CodingKeys.self)),
                "source_retry": .values(RetryEntry.CodingKeys.self),
                "schedules": .list(.values(ScheduleEntry.CodingKeys.self)),
                "notifications": NotificationPolicy.Section.keys,
            ])
    }

    /// Reads and validates a `tally.yaml`; errors name the file and the field.
    public static func load(path: String) throws -> CoordinatorConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, field: nil, reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// Parses configuration text.
    public static func parse(_ text: String, file: String = "tally.yaml") throws -> CoordinatorConfiguration {
        try File.keys.check(text, file: file)
        let decoded: File
        do {
            let decoder = YAMLDecoder()
            decoded = try decoder.decode(File.self, from: text, userInfo: [:])
        } catch let error as DecodingError {
            throw ConfigurationError(file: file, field: Self.path(of: error), reason: Self.reason(of: error))
        } catch {
            throw ConfigurationError(file: file, field: nil, reason: "not valid YAML: \(error)")
        }
        var configuration = CoordinatorConfiguration(dataDirectory: decoded.dataDir ?? "./tally-data")
        if let listen = decoded.listen {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
            else {
                throw ConfigurationError(file: file, field: "listen", reason: "expected HOST:PORT, got '\(listen)'")
            }
            configuration.listenHost = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            configuration.listenPort = port
        }
        if let lease = decoded.leaseSeconds {
            guard lease >= 1, lease <= 3600 else {
                throw ConfigurationError(file: file, field: "lease_seconds", reason: "must be between 1 and 3600")
            }
            configuration.leaseSeconds = lease
        }
        if let attempts = decoded.maxAttempts {
            guard attempts >= 1, attempts <= 100 else {
                throw ConfigurationError(file: file, field: "max_attempts", reason: "must be between 1 and 100")
            }
            configuration.maxAttempts = attempts
        }
        if let expiries = decoded.maxLeaseExpiries {
            guard expiries >= 1 else { throw ConfigurationError(file: file, field: "max_lease_expiries", reason: "must be at least 1") }
            configuration.maxLeaseExpiries = expiries
        }
        if let ttl = decoded.resultTtlDays {
            guard ttl > 0 else { throw ConfigurationError(file: file, field: "result_ttl_days", reason: "must be positive") }
            configuration.resultTTLDays = ttl
        }
        if let days = decoded.jobRetentionDays {
            guard days >= configuration.resultTTLDays, days <= 36_500 else {
                throw ConfigurationError(
                    file: file, field: "job_retention_days",
                    reason: "must be at least result_ttl_days (\(configuration.resultTTLDays)) and at most 36500")
            }
            configuration.jobRetentionDays = days
        }
        if let timeout = decoded.listingTimeoutSeconds {
            guard timeout >= 1, timeout <= 86_400 else {
                throw ConfigurationError(file: file, field: "listing_timeout_seconds", reason: "must be between 1 and 86400")
            }
            configuration.listingTimeoutSeconds = timeout
        }
        let context = ConfigurationContext(file: file)
        func checked(_ value: Double?, _ name: String, _ range: ClosedRange<Double>) throws -> Double? {
            try context.checked(value, name, range)
        }
        if let retry = decoded.sourceRetry {
            func check(_ value: Double?, _ name: String, _ range: ClosedRange<Double>) throws -> Double? {
                try checked(value, "source_retry.\(name)", range)
            }
            typealias Bounds = SourceRetryPolicy.Bounds
            if let attempts = retry.attempts {
                guard Bounds.attempts.contains(attempts) else {
                    throw ConfigurationError(
                        file: file, field: "source_retry.attempts",
                        reason: "must be between \(Bounds.attempts.lowerBound) and \(Bounds.attempts.upperBound)")
                }
                configuration.sourceRetry.attempts = attempts
            }
            if let v = try check(retry.initialBackoffSeconds, "initial_backoff_seconds", Bounds.backoffSeconds) {
                configuration.sourceRetry.initialBackoffSeconds = v
            }
            if let v = try check(retry.maximumBackoffSeconds, "maximum_backoff_seconds", Bounds.backoffSeconds) {
                configuration.sourceRetry.maximumBackoffSeconds = v
            }
            if let v = try check(retry.budgetSeconds, "budget_seconds", Bounds.budgetSeconds) {
                configuration.sourceRetry.budgetSeconds = v
            }
            if let v = try check(retry.stallSeconds, "stall_seconds", Bounds.stallSeconds) { configuration.sourceRetry.stallSeconds = v }
            if let v = try check(retry.minimumBytesPerSecond, "minimum_bytes_per_second", Bounds.minimumBytesPerSecond) {
                configuration.sourceRetry.minimumBytesPerSecond = v
            }
        }
        if let delay = decoded.taskRetryDelaySeconds {
            guard delay >= 0, delay <= 3600 else {
                throw ConfigurationError(file: file, field: "task_retry_delay_seconds", reason: "must be between 0 and 3600")
            }
            configuration.taskRetryDelaySeconds = delay
        }
        if let free = decoded.minFreeBytes {
            guard free >= 0 else { throw ConfigurationError(file: file, field: "min_free_bytes", reason: "must not be negative") }
            configuration.minimumFreeBytes = free
        }
        func checked(_ value: Int?, _ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value else { return nil }
            guard range.contains(value) else {
                throw ConfigurationError(file: file, field: name, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return value
        }
        if let v = try checked(decoded.maxPartialBytes, "max_partial_bytes", 1024...(64 << 30)) { configuration.maximumPartialBytes = v }
        if let v = try checked(decoded.maxPartialMemoryBytes, "max_partial_memory_bytes", 1 << 20...(1 << 40)) {
            configuration.maximumPartialMemoryBytes = v
        }
        if let v = try checked(decoded.mergeMemoryBytes, "merge_memory_bytes", 0...(1 << 40)) { configuration.mergeMemoryBytes = v }
        if let v = try checked(decoded.mergeRanges, "merge_ranges", 0...64) { configuration.mergeRanges = v }
        if let v = try checked(decoded.mergeOnWorkersFromBytes, "merge_on_workers_from_bytes", 0...(1 << 50)) {
            configuration.mergeOnWorkersFromBytes = v
        }
        if let v = try checked(decoded.mergeTaskBytes, "merge_task_bytes", 1024...(1 << 40)) { configuration.mergeTaskBytes = v }
        if let v = try checked(decoded.maxConcurrentUploads, "max_concurrent_uploads", 1...1024) {
            configuration.maximumConcurrentUploads = v
        }
        if let v = try checked(decoded.maxConnections, "max_connections", 1...1_000_000) { configuration.maximumConnections = v }
        if let v = try checked(decoded.maxConnectionsPerClient, "max_connections_per_client", 1...1_000_000) {
            configuration.maximumConnectionsPerClient = v
        }
        if let v = try checked(decoded.maxRefusedSecretsPerMinute, "max_refused_secrets_per_minute", 0...1_000_000) {
            configuration.maximumRefusedSecretsPerMinute = v
        }
        if let v = try checked(decoded.minBodyBytesPerSecond, "min_body_bytes_per_second", 0...(1 << 30)) {
            configuration.minimumBodyBytesPerSecond = v
        }
        if let v = try checked(decoded.bodyRateWindowSeconds, "body_rate_window_seconds", 0.5...3600) {
            configuration.bodyRateWindowSeconds = v
        }
        if let jobs = decoded.maxActiveJobsPerUser {
            guard (1...10_000).contains(jobs) else {
                throw ConfigurationError(file: file, field: "max_active_jobs_per_user", reason: "must be between 1 and 10000")
            }
            configuration.maxActiveJobsPerUser = jobs
        }
        if let v = try checked(decoded.requestHeadTimeoutSeconds, "request_head_timeout_seconds", 0.1...3600) {
            configuration.requestHeadTimeoutSeconds = v
        }
        if let v = try checked(decoded.requestBodyTimeoutSeconds, "request_body_timeout_seconds", 1...86_400) {
            configuration.requestBodyTimeoutSeconds = v
        }
        if let v = try checked(decoded.idleTimeoutSeconds, "idle_timeout_seconds", 1...86_400) { configuration.idleTimeoutSeconds = v }
        if let stragglers = decoded.stragglers {
            if let v = try checked(stragglers.afterDoneShare, "stragglers.after_done_share", 0...1) {
                configuration.stragglers.afterDoneShare = v
            }
            if let v = try checked(stragglers.slowerThanMedian, "stragglers.slower_than_median", 1...1000) {
                configuration.stragglers.slowerThanMedian = v
            }
            if let v = try checked(stragglers.floorSeconds, "stragglers.floor_seconds", 0...86_400) {
                configuration.stragglers.floorSeconds = v
            }
            if let v = try checked(stragglers.maxCopyShare, "stragglers.max_copy_share", 0...1) {
                configuration.stragglers.maxCopyShare = v
            }
        }
        for (i, entry) in (decoded.userDirectories ?? []).enumerated() {
            guard !entry.name.isEmpty, configuration.userDirectories[entry.name] == nil else {
                throw ConfigurationError(
                    file: file, field: "user_directories[\(i)].name", reason: "missing or duplicate directory name '\(entry.name)'")
            }
            guard !entry.url.isEmpty, !entry.url.hasPrefix("s3://") else {
                throw ConfigurationError(file: file, field: "user_directories[\(i)].url", reason: "a local path, file:// or http(s):// URL")
            }
            configuration.userDirectories[entry.name] = entry.url
        }
        if let url = decoded.publicUrl {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigurationError(file: file, field: "public_url", reason: "must be an http(s):// URL")
            }
            configuration.notifications.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let section = decoded.notifications { try configuration.notifications.apply(section, context) }
        for (i, entry) in (decoded.schedules ?? []).enumerated() {
            let schedule = entry.request
            do {
                _ = try ScheduleRule(schedule)
            } catch {
                throw ConfigurationError(file: file, field: "schedules[\(i)].\(error.field)", reason: error.reason)
            }
            configuration.schedules.append(schedule)
        }
        if let tls = decoded.tls {
            configuration.tls = ServerCertificate(certificatePath: tls.certificate, keyPath: tls.key)
        }
        if let store = decoded.store {
            switch store.kind {
            case "sqlite":
                guard store.url == nil, store.passwordFile == nil else {
                    throw ConfigurationError(
                        file: file, field: "store", reason: "a sqlite store lives in data_dir and takes no url or password_file")
                }
            case "postgres":
                guard let url = store.url, url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                    throw ConfigurationError(
                        file: file, field: "store.url", reason: "a postgres store needs url: postgres://USER@HOST:PORT/DATABASE")
                }
                configuration.store = .postgres(url: url, passwordFile: store.passwordFile)
            default:
                throw ConfigurationError(file: file, field: "store.kind", reason: "must be sqlite or postgres, got '\(store.kind)'")
            }
        }
        if let blobs = decoded.blobs {
            switch blobs.kind {
            case "local":
                guard blobs.url == nil, blobs.region == nil, blobs.endpoint == nil else {
                    throw ConfigurationError(
                        file: file, field: "blobs", reason: "local blobs live in data_dir and take no url, region or endpoint")
                }
            case "s3":
                guard let url = blobs.url, url.hasPrefix("s3://"), url.dropFirst(5).prefix(while: { $0 != "/" }).count > 0 else {
                    throw ConfigurationError(file: file, field: "blobs.url", reason: "s3 blobs need url: s3://BUCKET/PREFIX/")
                }
                if let endpoint = blobs.endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
                    throw ConfigurationError(file: file, field: "blobs.endpoint", reason: "must be an http(s) URL, got '\(endpoint)'")
                }
                configuration.blobs = .s3(url: url, region: blobs.region, endpoint: blobs.endpoint)
            default:
                throw ConfigurationError(file: file, field: "blobs.kind", reason: "must be local or s3, got '\(blobs.kind)'")
            }
        }
        if let term = try checked(decoded.leaderTermSeconds, "leader_term_seconds", 3...300) { configuration.leaderTermSeconds = term }
        if let target = decoded.taskTargetBytes {
            guard (4096...(1 << 40)).contains(target), target & (target - 1) == 0 else {
                throw ConfigurationError(
                    file: file, field: "task_target_bytes",
                    reason: "must be a power of two between 4096 and 2^40 (the shard cache reuses tasks of equal bounds only)")
            }
            configuration.taskTargetBytes = target
        }
        if let cache = decoded.shardCache {
            if let bytes = cache.maxBytes {
                guard bytes >= 0 else {
                    throw ConfigurationError(
                        file: file, field: "shard_cache.max_bytes", reason: "must not be negative (0 turns the cache off)")
                }
                configuration.shardCache.maximumBytes = bytes
            }
            if let margin = cache.safetyMarginSeconds {
                guard margin >= 0, margin <= 31 * 86_400 else {
                    throw ConfigurationError(
                        file: file, field: "shard_cache.safety_margin_seconds", reason: "must be between 0 and 2678400 (31 days)")
                }
                configuration.shardCache.safetyMarginSeconds = margin
            }
        }
        if let section = decoded.activityLog { try configuration.activityLog.apply(section, context) }
        for (i, entry) in (decoded.sources ?? []).enumerated() {
            let field = "sources[\(i)]"
            guard !entry.name.isEmpty, configuration.sources[entry.name] == nil else {
                throw ConfigurationError(file: file, field: field + ".name", reason: "missing or duplicate source name '\(entry.name)'")
            }
            guard let kind = SourceKind(rawValue: entry.kind) else {
                throw ConfigurationError(
                    file: file, field: field + ".kind",
                    reason: "must be one of \(SourceKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let format = entry.format ?? LogFormat.auto.rawValue
            guard let parsed = LogFormat(rawValue: format) else {
                throw ConfigurationError(file: file, field: field + ".format", reason: "unknown format '\(format)'")
            }
            configuration.sources[entry.name] = ConfiguredSource(
                address: SourceAddress(kind: kind, url: entry.url, endpoint: entry.endpoint, region: entry.region), format: parsed)
        }
        return configuration
    }

    private static func path(of error: DecodingError) -> String? {
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        case .keyNotFound(let key, let c): return fieldPath(c.codingPath + [key])
        @unknown default: return nil
        }
        return fieldPath(context.codingPath)
    }

    /// `sources[0].kind`: array positions in brackets, like the errors this file raises itself.
    private static func fieldPath(_ keys: [any CodingKey]) -> String {
        var path = ""
        for key in keys {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += (path.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return path
    }

    private static func reason(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case .typeMismatch(let type, _): return "expected \(type)"
        case .valueNotFound(let type, _): return "expected \(type), found nothing"
        case .dataCorrupted(let c): return c.debugDescription
        @unknown default: return "invalid"
        }
    }
}
