import Foundation
import Hummingbird
import HummingbirdTesting
import Metrics
import Prometheus
import Synchronization
import TallyFormats
import TallyProtocol
import TallyReport
import TallyServices
import TallySources
import TallyStore
import Testing

@testable import TallyCoordinator

/// The CSV header the fixture's logs use.
let csvHeader = "start_time,user,status,bytes_transferred,bytes_received,client_ip,device_id,relays"

/// The window every fixture job asks for.
let windowFrom = "2026-10-01T00:00:00Z"
let windowTo = "2026-10-02T00:00:00Z"

/// A fresh data directory and a log directory with two small CSV files: one named for an hour
/// (`2026-10-01T10.csv`) and one without a time in its name, which the planner puts in a task
/// of its own, so every job has two tasks. Both directories are removed when the fixture goes.
final class Fixture: Sendable {
    let root: String
    let dataDirectory: String
    let logDirectory: String
    let leaseSeconds: Double
    let stragglers: StragglerPolicy
    /// Where every coordinator of the fixture keeps its state (`testStore()`).
    let store = testStore()
    /// The coordinators' clock: tests move it instead of sleeping.
    let clock = ManualClock()

    init(leaseSeconds: Double = 30, stragglers: StragglerPolicy = StragglerPolicy()) throws {
        self.stragglers = stragglers
        root = NSTemporaryDirectory() + "tally-coordinator-tests-" + UUID().uuidString
        dataDirectory = root + "/data"
        logDirectory = root + "/logs"
        self.leaseSeconds = leaseSeconds
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        try Self.writeLogs(to: logDirectory)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    static func writeLogs(to directory: String) throws {
        let hourly = [
            csvHeader,
            "2026-10-01 10:05:00 UTC,alice@example.com,NORMAL,100,200,10.0.0.1,dev-a1,",
            "2026-10-01 10:15:00 UTC,bob@example.com,NORMAL,50,60,10.0.0.2,dev-b1,relaybalancer+https://relays.twingate.com",
            "2026-10-01 10:20:00 UTC,alice@example.com,DNS_ERROR,0,0,10.0.0.1,dev-a2,",
            "2026-10-01 10:30:00 UTC,,NORMAL,1,1,10.0.0.9,dev-svc,",
            "not a row",
        ]
        let undated = [
            csvHeader,
            "2026-10-01 23:59:59 UTC,carol@example.com,NORMAL,7,8,10.0.0.3,dev-c1,",
            "2026-10-02 00:00:00 UTC,dave@example.com,NORMAL,1,1,10.0.0.5,dev-d1,",
            "2026-10-01 12:00:00 UTC,bob@example.com,CONNECTION_FAILED,0,0,10.0.0.4,dev-b2,",
        ]
        try (hourly.joined(separator: "\n") + "\n").write(toFile: directory + "/2026-10-01T10.csv", atomically: true, encoding: .utf8)
        try (undated.joined(separator: "\n") + "\n").write(toFile: directory + "/extra.csv", atomically: true, encoding: .utf8)
    }

    var source: ConfiguredSource { ConfiguredSource(address: SourceAddress(kind: .file, url: logDirectory), format: .twingateCSV) }

    var configuration: CoordinatorConfiguration {
        var configuration = CoordinatorConfiguration(dataDirectory: dataDirectory, leaseSeconds: leaseSeconds, sources: ["local": source])
        configuration.stragglers = stragglers
        configuration.store = store
        // A second coordinator of the fixture is the first one restarted: it takes its lease back at once.
        configuration.replicaName = "fixture"
        return configuration
    }

    /// A coordinator over the fixture's data directory (a second one simulates a restart),
    /// its configuration changed by `adjust`.
    func coordinator(_ adjust: (inout CoordinatorConfiguration) -> Void = { _ in }) throws -> Coordinator {
        let registry = PrometheusCollectorRegistry()
        var configuration = self.configuration
        adjust(&configuration)
        return try Coordinator(
            configuration: configuration, clock: clock, registry: registry,
            metricsFactory: PrometheusMetricsFactory(registry: registry))
    }
}

/// A clock that moves only when told.
final class ManualClock: CoordinatorClock {
    private struct Sleeper {
        var deadline: Double
        var continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var seconds: Double = 1_790_000_000
        var sleepers: [UInt64: Sleeper] = [:]
        var nextId: UInt64 = 0
    }
    private let state = Mutex(State())

    func now() -> Double { state.withLock { $0.seconds } }

    /// Moves time forward and wakes every sleeper whose time has come.
    func advance(by delta: Double) {
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.seconds += delta
            let now = state.seconds
            let ids = state.sleepers.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { state.sleepers.removeValue(forKey: $0)?.continuation }
        }
        for continuation in due { continuation.resume() }
    }

    /// Tasks waiting in `sleep` right now.
    var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Waits until time is advanced past `now() + seconds`; a cancelled sleeper throws.
    func sleep(seconds: Double) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextId += 1
            return state.nextId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled || seconds <= 0 { return true }
                    state.sleepers[id] = Sleeper(deadline: state.seconds + seconds, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            try Task.checkCancellation()
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }
}

/// Runs `body` against an in-process router of `coordinator`.
func withClient<T: Sendable>(_ coordinator: Coordinator, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
    let app = Application(responder: coordinator.responder())
    return try await app.test(.router, body)
}

/// Runs `body` against an in-process router of `coordinator` once the fixture's job is submitted
/// and planned, its tasks waiting for a worker: where the tests of leases, uploads and merges
/// begin, so each says only what it does from there.
func withPlannedJob<T: Sendable>(
    _ coordinator: Coordinator, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @Sendable (_ client: any TestClientProtocol, _ job: JobStatus) async throws -> T
) async throws -> T {
    try await withClient(coordinator) { client in
        let job = try await submit(client, sourceLocation: sourceLocation)
        await coordinator.runOnce()
        return try await body(client, job)
    }
}

// MARK: HTTP helpers

extension TestResponse {
    var text: String { String(buffer: body) }
    var bytes: [UInt8] { Array(body.readableBytesView) }

    func decode<T: Decodable>(_ type: T.Type = T.self, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
        do {
            return try TallyJSON.decoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            Issue.record("cannot decode \(T.self) from \(status.code) body '\(text)': \(error)", sourceLocation: sourceLocation)
            throw error
        }
    }
}

func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// What every API client sends with a JSON body (a body without it is refused, 415).
let jsonHeaders: HTTPFields = [.contentType: "application/json"]

func jobRequest(source: String = "local", from: String = windowFrom, to: String = windowTo, timezone: String? = nil) -> ByteBuffer {
    var fields = [#""report":"active-users""#, #""source":"\#(source)""#, #""from":"\#(from)""#, #""to":"\#(to)""#]
    if let timezone { fields.append(#""timezone":"\#(timezone)""#) }
    return json("{" + fields.joined(separator: ",") + "}")
}

/// Asserts an error answer: status, and the JSON body's `field` (and that `error` is a sentence).
func expectError(
    _ response: TestResponse, _ status: HTTPResponse.Status, field: String?, containing fragment: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(response.status == status, "body: \(response.text)", sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
    let body = try response.decode(APIErrorBody.self, sourceLocation: sourceLocation)
    #expect(body.field == field, "error: \(body.error)", sourceLocation: sourceLocation)
    #expect(!body.error.isEmpty, sourceLocation: sourceLocation)
    if let fragment {
        #expect(body.error.contains(fragment), "error: \(body.error)", sourceLocation: sourceLocation)
    }
}

func submit(_ client: any TestClientProtocol, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JobStatus {
    let response = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: jobRequest())
    #expect(response.status == .accepted, "body: \(response.text)", sourceLocation: sourceLocation)
    return try response.decode(JobStatus.self, sourceLocation: sourceLocation)
}

func getJob(_ client: any TestClientProtocol, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JobStatus {
    let response = try await client.execute(uri: "/v1/jobs/\(id)", method: .get)
    #expect(response.status == .ok, "body: \(response.text)", sourceLocation: sourceLocation)
    return try response.decode(JobStatus.self, sourceLocation: sourceLocation)
}

func leaseRequest(_ worker: String, version: Int = WorkerProtocol.version) -> ByteBuffer {
    json(#"{"worker":"\#(worker)","protocol_version":\#(version)}"#)
}

/// Leases a task; `nil` when the coordinator answers 204 (no work).
func lease(_ client: any TestClientProtocol, worker: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> LeaseGrant?
{
    let response = try await client.execute(uri: "/v1/worker/lease", method: .post, headers: jsonHeaders, body: leaseRequest(worker))
    if response.status == .noContent { return nil }
    #expect(response.status == .ok, "body: \(response.text)", sourceLocation: sourceLocation)
    return try response.decode(LeaseGrant.self, sourceLocation: sourceLocation)
}

func heartbeat(_ client: any TestClientProtocol, _ leaseId: String) async throws -> TestResponse {
    try await client.execute(uri: "/v1/worker/leases/\(leaseId)/heartbeat", method: .post)
}

func upload(_ client: any TestClientProtocol, _ leaseId: String, _ bytes: [UInt8]) async throws -> TestResponse {
    var headers = HTTPFields()
    headers[.contentType] = "application/octet-stream"
    return try await client.execute(
        uri: "/v1/worker/leases/\(leaseId)/partial", method: .put, headers: headers,
        body: ByteBuffer(bytes: bytes))
}

/// Uploads and expects `{"committed": <committed>}`.
func expectUpload(
    _ client: any TestClientProtocol, _ leaseId: String, _ bytes: [UInt8], committed: Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let response = try await upload(client, leaseId, bytes)
    #expect(response.status == .ok, "body: \(response.text)", sourceLocation: sourceLocation)
    let reply = try response.decode(UploadReply.self, sourceLocation: sourceLocation)
    #expect(reply.committed == committed, "reason: \(reply.reason ?? "-")", sourceLocation: sourceLocation)
}

// MARK: Doing a worker's job

/// What a worker would compute for a grant, without the coordinator: the grant's objects read
/// from the fixture's folder and fed to the engine.
func partial(for grant: LeaseGrant) async throws -> Partial {
    let source = try grant.source.configuredSource()
    var aggregation = TaskAggregation(window: try grant.window.engineWindow(), shape: try grant.shape())
    for object in grant.task.engineTask.objects {
        let reader = aggregation.startObject(named: object.name, format: source.format)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source.address.url + "/" + object.name))
        try bytes.withUnsafeBytes { try aggregation.consume($0, of: reader) }
        try aggregation.finishObject(reader)
    }
    return aggregation.partial()
}

/// The bytes a worker would upload for a grant.
func partialBytes(for grant: LeaseGrant) async throws -> [UInt8] {
    try await partial(for: grant).encoded()
}

/// Leases every pending task and commits its partial, as one well-behaved worker would.
func workUntilNoTasks(_ client: any TestClientProtocol, worker: String = "w1", sourceLocation: SourceLocation = #_sourceLocation)
    async throws
{
    while let grant = try await lease(client, worker: worker, sourceLocation: sourceLocation) {
        try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true, sourceLocation: sourceLocation)
    }
}

/// The report the fixture's job must give, written out by hand (and checked once against
/// `scripts/reference_report.py --format twingate-csv --from 2026-10-01T00:00:00Z
/// --to 2026-10-02T00:00:00Z`), never computed by the code under test.
enum ExpectedReport {
    static let csv = Array(
        """
        user_email,last_access_date,total_connections,success_connections,failed_connections,failed_connections_dns,failed_connections_other,total_bytes,bytes_transferred,bytes_received,percent_relay,percent_p2p,active_devices,num_of_client_ip,top_10_client_ips
        alice@example.com,2026-10-01T10:20:00.000Z,2,1,1,1,0,300,100,200,0.00,100.00,2,1,10.0.0.1
        bob@example.com,2026-10-01T12:00:00.000Z,2,1,1,0,1,110,50,60,100.00,0.00,2,2,10.0.0.2;10.0.0.4
        carol@example.com,2026-10-01T23:59:59.000Z,1,1,0,0,0,15,7,8,0.00,100.00,1,1,10.0.0.3

        """.utf8)
    static let users = 3
    /// The hourly file and the undated one, each a task of its own.
    static let tasks = 2
    /// Ten lines: two headers, seven events (one after the window, one without a user), one
    /// line with too few fields.
    /// Both tasks computed, nothing cached (the fixture's clock is before its logs), so the
    /// workers read both files: 706 bytes as `writeLogs` writes them.
    static let statistics: JobStatistics = {
        var statistics = JobStatistics(
            lines: 10, events: 7, eventsInWindow: 6, serviceAccountRows: 1, otherLines: 2, malformed: ["field_count": 1],
            malformedSamples: [.init(object: "2026-10-01T10.csv", line: 6, reason: "field_count")])
        statistics.shardsComputed = 2
        statistics.shardsReused = 0
        statistics.objectsRead = 2
        statistics.bytesRead = 706
        return statistics
    }()
}

/// Inflates gzip bytes with the system's gzip tool (an implementation independent of tally's).
func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let directory = NSTemporaryDirectory() + "tally-gunzip-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let input = directory + "/in.gz"
    try Data(bytes).write(to: URL(fileURLWithPath: input))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-dc", input]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "gzip -dc failed")
    return Array(output)
}

/// Waits until `condition` holds, for work running in other tasks (a service reacting to a
/// clock moved by hand); fails after 30 s of real time. It polls, it does not make time pass.
func eventually(
    _ what: String = "the condition", sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// The store the tests' coordinators use: SQLite in their data directory, or, when
/// `TALLY_TEST_STORE` names a PostgreSQL database (`scripts/test` runs the suite once more so),
/// a schema of its own in that database, so the same tests hold both stores to one contract.
/// Coordinators given the same `key` (a data directory) share one store, as they would one folder.
func testStore(key: String = UUID().uuidString) -> StoreLocation {
    guard let url = ProcessInfo.processInfo.environment["TALLY_TEST_STORE"], !url.isEmpty else { return .sqlite }
    let schema = "t_" + String(UInt64(bitPattern: Int64(key.hashValue)), radix: 16) + String(key.utf8.count)
    return .postgres(url: url + (url.contains("?") ? "&" : "?") + "schema=" + schema, passwordFile: nil)
}
