import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Synchronization
import TallyNotifications
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// One job-creation path (`JobService`): a bad source, user directory or notification target
/// gets the same reason through the API, the Generate page, a schedule when it is saved and a
/// schedule when it fires.
@Suite struct JobDoorsTests {
    /// Log messages and metadata, as one line each.
    final class CapturedLog: LogHandler, @unchecked Sendable {
        let lines = Mutex<[String]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            lines.withLock {
                $0.append("\(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
        }
    }

    static func unescaped(_ html: String) -> String {
        html.replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(
            of: "&amp;", with: "&"
        )
        .replacingOccurrences(of: "&#x27;", with: "'").replacingOccurrences(of: "&#34;", with: "\"")
    }

    @Test(arguments: [
        (#""source":"nope""#, "source=nope", "unknown source 'nope' (configured: local)"),
        (
            #""source":"local","report":"inactive-users","users":"hr""#, "source=local&report=inactive-users&inactive_days=90&users=hr",
            "unknown user directory 'hr' (configured: )"
        ),
        (#""source":"local","notify":["ops"]"#, "source=local&notify=ops", "unknown notification target 'ops' (configured: )"),
    ])
    func aBadRequestGetsTheSameReasonThroughEveryDoor(json fields: String, form: String, reason: String) async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let inactive = fields.contains("inactive-users")
        let window = inactive ? "" : #","from":"\#(windowFrom)","to":"\#(windowTo)""#
        let job = "{" + (fields.contains("report") ? fields : #""report":"active-users","# + fields) + window + "}"
        let schedule =
            #"{"name":"s","window":"previous-day","every":"daily","at":"06:00","#
            + (fields.contains("report") ? fields : #""report":"active-users","# + fields) + "}"
        try await withClient(coordinator) { client in
            // The API.
            let api = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(job)).decode(
                APIErrorBody.self)
            #expect(api.error == reason)
            // The Generate page (the open mode's form cookie); it offers no user directory.
            if !form.contains("users=") {
                var headers = HTTPFields()
                headers[.contentType] = "application/x-www-form-urlencoded"
                let token = String(repeating: "t", count: 43)
                headers[.cookie] = "\(WebSessionCookie.formName)=\(token)"
                let dates = inactive ? "" : "&from=2026-10-01&to=2026-10-01&timezone=UTC"
                let page = try await client.execute(
                    uri: "/reports", method: .post, headers: headers,
                    body: ByteBuffer(string: form + dates + "&form_token=\(token)"))
                #expect(page.status == .badRequest)
                #expect(Self.unescaped(page.text).contains(reason), "\(page.text)")
            }
            // A schedule saved.
            let saved = try await client.execute(uri: "/v1/schedules", method: .post, headers: jsonHeaders, body: json(schedule)).decode(
                APIErrorBody.self)
            #expect(saved.error == reason)
        }
        // A schedule that fires after tally.yaml lost what it names: saved on a coordinator that
        // has it, fired by one that does not.
        var configuration = fixture.configuration
        configuration.sources["nope"] = fixture.source
        configuration.userDirectories["hr"] = fixture.logDirectory + "/users.csv"
        configuration.notifications.targets["ops"] = try WebhookTarget(
            name: "ops", url: "http://127.0.0.1:9/",
            secret: "whsec_" + Data(repeating: 1, count: 24).base64EncodedString())
        let before = try Coordinator(configuration: configuration, clock: fixture.clock)
        try await withClient(before) { client in
            let created = try await client.execute(uri: "/v1/schedules", method: .post, headers: jsonHeaders, body: json(schedule))
            #expect(created.status == .created, "\(created.text)")
        }
        let log = CapturedLog()
        let after = try Coordinator(
            configuration: fixture.configuration, clock: fixture.clock, registry: PrometheusCollectorRegistry(),
            metricsFactory: nil, logger: Logger(label: "test") { _ in log })
        fixture.clock.advance(by: 2 * 86_400)
        await after.scheduleRunner().runOnce()
        let refused = log.lines.withLock { $0 }.filter { $0.hasPrefix("scheduled job refused") }
        #expect(refused.count == 1 && refused.first?.contains("reason=\(reason)") == true, "\(log.lines.withLock { $0 })")
        #expect(try await after.store.jobs(limit: 10, beforeSequence: nil, owner: nil).isEmpty)
    }

    /// A report kind is parsed once at the edge: an unknown one is refused, never made an
    /// active-users job by default.
    @Test func anUnknownReportKindIsRefusedByTheAPIAndTheSchedules() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let reason = "unknown report 'activeusers' (known: active-users, inactive-users, network-summary, resource-access)"
        try await withClient(coordinator) { client in
            let job = #"{"report":"activeusers","source":"local","from":"\#(windowFrom)","to":"\#(windowTo)"}"#
            let api = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(job))
            #expect(api.status == .badRequest)
            let body = try api.decode(APIErrorBody.self)
            #expect(body.error == reason && body.field == "report")
            let schedule = #"{"name":"s","report":"activeusers","source":"local","window":"previous-day","every":"daily","at":"06:00"}"#
            let saved = try await client.execute(uri: "/v1/schedules", method: .post, headers: jsonHeaders, body: json(schedule))
            #expect(saved.status == .badRequest)
            #expect(try saved.decode(APIErrorBody.self).error == reason)
        }
        #expect(try await coordinator.store.jobs(limit: 10, beforeSequence: nil, owner: nil).isEmpty)
    }
}
