import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TallyFormats
import TallyProtocol
import TallyReport
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

    init(leaseSeconds: Double = 30) throws {
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

    var source: SourceSpec { SourceSpec(kind: "file", url: logDirectory, format: .twingateCSV) }

    var configuration: CoordinatorConfiguration {
        CoordinatorConfiguration(dataDirectory: dataDirectory, leaseSeconds: leaseSeconds, sources: ["local": source])
    }

    /// A coordinator over the fixture's data directory (a second one simulates a restart).
    func coordinator() throws -> Coordinator {
        try Coordinator(configuration: configuration)
    }
}

/// Runs `body` against an in-process router of `coordinator`.
func withClient<T: Sendable>(_ coordinator: Coordinator, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
    let app = Application(router: coordinator.router())
    return try await app.test(.router, body)
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

func jobRequest(source: String = "local", from: String = windowFrom, to: String = windowTo, timezone: String? = nil) -> ByteBuffer {
    var fields = [#""report":"active-users""#, #""source":"\#(source)""#, #""from":"\#(from)""#, #""to":"\#(to)""#]
    if let timezone { fields.append(#""timezone":"\#(timezone)""#) }
    return json("{" + fields.joined(separator: ",") + "}")
}

/// Asserts an error answer: status, and the JSON body's `field` (and that `error` is a sentence).
func expectError(_ response: TestResponse, _ status: HTTPResponse.Status, field: String?, containing fragment: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
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
    let response = try await client.execute(uri: "/v1/jobs", method: .post, body: jobRequest())
    #expect(response.status == .accepted, "body: \(response.text)", sourceLocation: sourceLocation)
    return try response.decode(JobStatus.self, sourceLocation: sourceLocation)
}

func getJob(_ client: any TestClientProtocol, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JobStatus {
    let response = try await client.execute(uri: "/v1/jobs/\(id)", method: .get)
    #expect(response.status == .ok, "body: \(response.text)", sourceLocation: sourceLocation)
    return try response.decode(JobStatus.self, sourceLocation: sourceLocation)
}

func leaseRequest(_ worker: String, version: Int = 1) -> ByteBuffer {
    json(#"{"worker":"\#(worker)","protocol_version":\#(version)}"#)
}

/// Leases a task; `nil` when the coordinator answers 204 (no work).
func lease(_ client: any TestClientProtocol, worker: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> LeaseGrant? {
    let response = try await client.execute(uri: "/v1/worker/lease", method: .post, body: leaseRequest(worker))
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
    return try await client.execute(uri: "/v1/worker/leases/\(leaseId)/partial", method: .put, headers: headers,
                                    body: ByteBuffer(bytes: bytes))
}

/// Uploads and expects `{"committed": <committed>}`.
func expectUpload(_ client: any TestClientProtocol, _ leaseId: String, _ bytes: [UInt8], committed: Bool,
                  sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let response = try await upload(client, leaseId, bytes)
    #expect(response.status == .ok, "body: \(response.text)", sourceLocation: sourceLocation)
    let reply = try response.decode(UploadReply.self, sourceLocation: sourceLocation)
    #expect(reply.committed == committed, "reason: \(reply.reason ?? "-")", sourceLocation: sourceLocation)
}

// MARK: Doing a worker's job

/// What a worker would compute for a grant, without the coordinator: TaskRunner over the source.
func partial(for grant: LeaseGrant) async throws -> Partial {
    try await TaskRunner.run(grant.task, window: grant.window, format: grant.source.format, source: try grant.source.open())
}

/// The bytes a worker would upload for a grant.
func partialBytes(for grant: LeaseGrant) async throws -> [UInt8] {
    try await partial(for: grant).encoded()
}

/// Leases every pending task and commits its partial, as one well-behaved worker would.
func workUntilNoTasks(_ client: any TestClientProtocol, worker: String = "w1", sourceLocation: SourceLocation = #_sourceLocation) async throws {
    while let grant = try await lease(client, worker: worker, sourceLocation: sourceLocation) {
        try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true, sourceLocation: sourceLocation)
    }
}

/// The expected report, computed independently of the coordinator: the fixture's source is
/// listed and planned, each task run with TaskRunner, and the partials merged in plan order.
func expectedReport(_ fixture: Fixture) async throws -> (csv: [UInt8], users: Int, statistics: ReadStatistics, tasks: Int) {
    let window = try ReportWindow(from: windowFrom, to: windowTo, timeZone: nil)
    let source = try fixture.source.open()
    let plan = ReportPlan(objects: try await source.list(format: .twingateCSV), window: window)
    var merger = ReportMerger()
    for task in plan.tasks {
        merger.merge(try await TaskRunner.run(task, window: window, format: .twingateCSV, source: source))
    }
    return (merger.csv(), merger.userCount, merger.statistics, plan.tasks.count)
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
