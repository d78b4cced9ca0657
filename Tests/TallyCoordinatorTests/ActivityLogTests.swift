import Foundation
import Hummingbird
import HummingbirdTesting
import TallyFormats
import TallyProtocol
import TallyReport
import TallyStore
import Testing

@testable import TallyCoordinator

/// The API activity log: one row per authenticated request with exactly the documented columns,
/// per-user on/off and named logs, exports in CSV and NDJSON, and expiry by the injected clock.
@Suite struct ActivityLogTests {
    static let columns =
        "_timestamp,request_uuid,request_ts,user,operation,auth_type,auth_fingerprint,auth_validity,account,role,status,duration,resources,params,dict"

    static func headers(_ secret: String?, contentType: String? = nil, context: String? = nil) -> HTTPFields {
        var headers = AuthenticationTests.headers(secret, contentType: contentType)
        if let context { headers[ActivityRecord.contextHeader] = context }
        return headers
    }

    /// An export through the API, parsed: the header line and the rows as column → value.
    static func exportCSV(_ client: any TestClientProtocol, admin: String, query: String = "") async throws -> (
        header: String, rows: [[String: String]]
    ) {
        var headers = Self.headers(admin)
        headers[.accept] = "text/csv"
        let response = try await client.execute(uri: "/v1/activity" + query, method: .get, headers: headers)
        #expect(response.status == .ok, "\(response.text)")
        #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
        let records = try RFC4180.parse(response.text)
        let header = try #require(records.first)
        #expect(response.text.hasPrefix(Self.columns + "\r\n"))
        return (header.joined(separator: ","), records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) })
    }

    @Test func everyAuthenticatedRequestIsOneRowWithEveryColumn() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await AuthenticationTests.secrets(coordinator)
        let expiring = try await coordinator.createToken(TokenRequest(user: "eve", role: .reporter, expiresDays: 2))
        let eve = try #require(expiring.secret)
        let start = fixture.clock.now()
        try await withClient(coordinator) { client in
            // The scripted sequence: a reporter submits (with a context), lists with a query,
            // reads its job; a worker leases; a reporter is refused a worker route (403, logged);
            // a request with a bad secret is refused before authentication (not logged).
            let created = try await client.execute(
                uri: "/v1/jobs", method: .post,
                headers: Self.headers(s.reporter, contentType: "application/json", context: #"{"ticket": "OPS-12", "n": [1, 2]}"#),
                body: jobRequest())
            let job = try created.decode(JobStatus.self).id
            let createdId = try #require(created.headers[AuthenticationMiddleware.requestIdHeader])
            fixture.clock.advance(by: 1.5)
            let listed = try await client.execute(uri: "/v1/jobs?limit=1&limit=2", method: .get, headers: Self.headers(eve))
            #expect(listed.status == .ok)
            fixture.clock.advance(by: 1)
            #expect(
                try await client.execute(uri: "/v1/jobs/\(job)", method: .get, headers: Self.headers(s.reporter, context: "not json"))
                    .status == .ok)
            await coordinator.runOnce()
            let lease = try await client.execute(
                uri: "/v1/worker/lease", method: .post, headers: Self.headers(s.worker, contentType: "application/json"),
                body: leaseRequest("w-1"))
            #expect(lease.status == .ok)
            let forbidden = try await client.execute(
                uri: "/v1/worker/lease", method: .post, headers: Self.headers(s.reporter, contentType: "application/json"),
                body: leaseRequest("w-1"))
            #expect(forbidden.status == .forbidden)
            let forbiddenId = try #require(forbidden.headers[AuthenticationMiddleware.requestIdHeader])
            let unknown = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers("tally_unknown"))
            #expect(unknown.status == .unauthorized)
            #expect(unknown.headers[AuthenticationMiddleware.requestIdHeader] != nil)
            try await coordinator.activity.flush()

            let (header, rows) = try await Self.exportCSV(client, admin: s.admin)
            #expect(header == Self.columns)
            #expect(rows.map { $0["operation"] } == ["create_job", "list_jobs", "get_job", "lease_task", "lease_task"])
            #expect(rows.map { $0["user"] } == ["rita", "eve", "rita", "w-one", "rita"])
            #expect(rows.map { $0["role"] } == ["reporter", "reporter", "reporter", "worker", "reporter"])
            #expect(rows.map { $0["status"] } == ["202", "200", "200", "200", "403"])
            #expect(rows.map { $0["request_uuid"] }.first == createdId)
            #expect(rows.last?["request_uuid"] == forbiddenId)
            #expect(Set(rows.compactMap { $0["request_uuid"] }).count == rows.count)
            // One account id, a UUID, on every row.
            let account = try #require(rows.first?["account"])
            #expect(UUID(uuidString: account) != nil)
            #expect(rows.allSatisfy { $0["account"] == account })
            #expect(rows.allSatisfy { $0["auth_type"] == "secret" })
            // A fingerprint that starts like a formula (a secret's last four characters may start
            // with '-') is written with a leading quote, as every CSV field is (CSVField).
            let fingerprints = [s.reporter, eve, s.reporter, s.worker, s.reporter].map { secret in
                var field: [UInt8] = []
                CSVField.append(Array(secret.suffix(4).utf8), to: &field)
                return String(decoding: field, as: UTF8.self)
            }
            #expect(rows.map { $0["auth_fingerprint"] } == fingerprints)
            // auth_validity: empty for a secret that never expires, else its expiry in Unix seconds.
            #expect(rows[0]["auth_validity"] == "")
            #expect(rows[1]["auth_validity"] == ActivityRecord.seconds(Int64((start + 2 * 86_400) * 1_000_000)))
            // request_ts from the injected clock, with three decimals; _timestamp RFC 3339 UTC ms.
            #expect(rows[0]["request_ts"] == ActivityRecord.seconds(Int64(start * 1_000_000)))
            #expect(rows[1]["request_ts"] == ActivityRecord.seconds(Int64((start + 1.5) * 1_000_000)))
            #expect(rows[1]["request_ts"]?.hasSuffix(".500") == true)
            for row in rows {
                let timestamp = try #require(row["_timestamp"])
                #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(timestamp)")
                let micros = try #require(Array(timestamp.utf8).withUnsafeBytes { EventTimestamp.parseRFC3339($0) })
                let requestTS = try #require(Double(row["request_ts"] ?? ""))
                // Written when the answer was ready: at or just after the request's arrival.
                #expect(Double(micros) / 1e6 >= requestTS && Double(micros) / 1e6 < requestTS + 10)
                #expect(row["duration"]?.wholeMatch(of: /\d+\.\d{3}/) != nil)
            }
            // resources, params, dict: JSON objects.
            #expect(rows[0]["resources"] == "{}")
            #expect(rows[2]["resources"] == #"{"job":"\#(job)"}"#)
            #expect(rows[1]["params"] == #"{"limit":["1","2"]}"#)
            #expect(rows[0]["params"] == "{}")
            #expect(rows[0]["dict"] == #"{"n":[1,2],"ticket":"OPS-12"}"#)
            #expect(rows[2]["dict"] == "{}")  // not JSON: dropped, never half-kept
        }
    }

    @Test func perUserSettingsSendRowsToNamedLogsOrNowhere() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            func set(_ user: String, _ body: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/users/\(user)/activity", method: .put, headers: Self.headers(s.admin, contentType: "application/json"),
                    body: json(body))
            }
            let rita = try await set("rita", #"{"enabled":true,"logs":["audit","default"]}"#)
            #expect(
                try rita.decode(UserActivity.self)
                    == UserActivity(user: "rita", setting: ActivitySetting(enabled: true, logs: ["audit", "default"]), configured: true))
            #expect(try await set("rob", #"{"enabled":false,"logs":[]}"#).status == .ok)
            try expectError(try await set("rob", #"{"enabled":true,"logs":["../etc"]}"#), .badRequest, field: "logs")
            try expectError(try await set("rob", #"{"enabled":true,"logs":[]}"#), .badRequest, field: "logs")
            let never = try await client.execute(uri: "/v1/users/nobody/activity", method: .get, headers: Self.headers(s.admin))
            #expect(
                try never.decode(UserActivity.self)
                    == UserActivity(user: "nobody", setting: ActivitySetting(enabled: true, logs: ["default"]), configured: false))
            try await coordinator.activity.flush()
            let before = try await Self.exportCSV(client, admin: s.admin).rows.count

            for secret in [s.reporter, s.otherReporter, s.monitor] {
                _ = try await client.execute(
                    uri: secret == s.monitor ? "/metrics" : "/v1/jobs", method: .get, headers: Self.headers(secret))
            }
            try await coordinator.activity.flush()
            let all = try await Self.exportCSV(client, admin: s.admin).rows.dropFirst(before + 1)  // the export request itself is a row
            #expect(all.map { $0["user"] } == ["rita", "prometheus"])  // rob is off
            let audit = try await Self.exportCSV(client, admin: s.admin, query: "?log=audit").rows
            #expect(audit.map { $0["user"] } == ["rita"])
            #expect(audit.first?["request_uuid"] == all.first?["request_uuid"])
            let ritaOnly = try await Self.exportCSV(client, admin: s.admin, query: "?user=rita").rows
            #expect(ritaOnly.map { $0["operation"] } == ["list_jobs"])

            // Turned off again: nothing more.
            #expect(try await set("rita", #"{"enabled":false,"logs":[]}"#).status == .ok)
            _ = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.reporter))
            try await coordinator.activity.flush()
            #expect(try await Self.exportCSV(client, admin: s.admin, query: "?log=audit").rows.count == 1)
        }
    }

    @Test func aConfiguredDefaultOfOffLogsOnlyUsersSwitchedOn() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.activityLog.defaultSetting = .off
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock, registry: .init(), metricsFactory: nil)
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            _ = try await client.execute(
                uri: "/v1/users/rob/activity", method: .put, headers: Self.headers(s.admin, contentType: "application/json"),
                body: json(#"{"enabled":true,"logs":["default"]}"#))
            _ = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.reporter))
            _ = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.otherReporter))
            try await coordinator.activity.flush()
            #expect(try await Self.exportCSV(client, admin: s.admin).rows.map { $0["user"] } == ["rob"])
        }
    }

    @Test func exportsFilterByTimeAndComeAsNDJSON() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            let first = fixture.clock.now()
            _ = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.reporter))
            fixture.clock.advance(by: 3600)
            _ = try await client.execute(uri: "/v1/jobs?state=running", method: .get, headers: Self.headers(s.otherReporter))
            try await coordinator.activity.flush()
            let cut = CivilTime.rfc3339(micros: Int64((first + 1800) * 1_000_000))
            let later = try await Self.exportCSV(
                client, admin: s.admin, query: "?to=\(CivilTime.rfc3339(micros: Int64((first + 7200) * 1_000_000)))&from=\(cut)"
            ).rows
            #expect(later.map { $0["user"] } == ["rob"])
            let earlier = try await Self.exportCSV(client, admin: s.admin, query: "?to=\(cut)").rows
            #expect(earlier.map { $0["user"] } == ["rita"])

            var headers = Self.headers(s.admin)
            headers[.accept] = "application/x-ndjson"
            let response = try await client.execute(uri: "/v1/activity?from=\(cut)", method: .get, headers: headers)
            #expect(response.headers[.contentType] == "application/x-ndjson")
            let lines = response.text.split(separator: "\n")
            let rob = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(rob.keys.sorted() == Self.columns.split(separator: ",").map(String.init).sorted())
            #expect(rob["user"] as? String == "rob")
            #expect(rob["status"] as? Int == 200)
            #expect((rob["params"] as? [String: Any])?["state"] as? String == "running")
            #expect(rob["auth_validity"] is NSNull)

            for (query, field) in [("?log=../etc", "log"), ("?from=yesterday", "from"), ("?from=\(cut)&to=\(cut)", "to")] {
                try expectError(
                    try await client.execute(uri: "/v1/activity" + query, method: .get, headers: Self.headers(s.admin)), .badRequest,
                    field: field)
            }
        }
    }

    @Test func aFieldWithALineBreakOrQuoteIsQuotedInTheCSV() throws {
        let record = ActivityRecord(
            timestamp: 0, requestUUID: "u", requestTime: 0, user: "line\r\nbreak", operation: "get_job", authType: "secret",
            authFingerprint: "ab\"c", authValidity: nil, account: "a", role: "admin", status: 200, durationMicros: 1500,
            resources: #"{"job":"x,y"}"#, params: "{}", dict: "{}")
        let parsed = try RFC4180.parse(record.csvLine)
        #expect(parsed.count == 1)
        #expect(
            parsed[0][3] == "line\r\nbreak" && parsed[0][6] == "ab\"c" && parsed[0][11] == "1.500" && parsed[0][12] == #"{"job":"x,y"}"#)
    }

    @Test func rowsExpireAfterTheRetentionPeriodByTheInjectedClock() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            _ = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.reporter))
            fixture.clock.advance(by: 89 * 86_400)
            _ = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.otherReporter))
            try await coordinator.activity.flush()
            #expect(try await coordinator.activity.expire() == 0)
            fixture.clock.advance(by: 1.5 * 86_400)  // the first row is now 90.5 days old
            #expect(try await coordinator.activity.expire() == 1)
            try await coordinator.activity.flush()
            let rows = try await Self.exportCSV(client, admin: s.admin).rows
            #expect(rows.map { $0["user"] } == ["rob"])
        }
    }

    @Test func aTooLargeContextHeaderOrDeepBodyIsHandledWithoutParsingIt() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            let big = #"{"a":""# + String(repeating: "x", count: 1100) + #""}"#
            let deep = String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)
            _ = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.reporter, context: big))
            _ = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.reporter, context: #"{"a":"# + deep + "}"))
            let body = #"{"report":"active-users","source":"local","from":"# + deep + "}"
            try expectError(
                try await client.execute(
                    uri: "/v1/jobs", method: .post, headers: Self.headers(s.reporter, contentType: "application/json"),
                    body: json(body)), .badRequest, field: nil, containing: "nests deeper")
            try await coordinator.activity.flush()
            let rows = try await Self.exportCSV(client, admin: s.admin).rows
            #expect(rows.prefix(2).map { $0["dict"] } == ["{}", "{}"])
            #expect(rows[2]["status"] == "400")
        }
    }
}

/// A strict RFC 4180 reader for the tests (CRLF line ends, quoted fields with doubled quotes).
enum RFC4180 {
    struct Malformed: Error {}

    static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)
        var i = 0
        guard text.isEmpty || text.hasSuffix("\r\n") else { throw Malformed() }
        chars.append(contentsOf: [])
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" {
                        field.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                guard field.isEmpty else { throw Malformed() }
                quoted = true
            } else if c == "," {
                record.append(field)
                field = ""
            } else if c == "\r\n" || c == "\r" {
                // Swift joins CR LF into one Character.
                record.append(field)
                field = ""
                records.append(record)
                record = []
                if c == "\r" {
                    guard i + 1 < chars.count, chars[i + 1] == "\n" else { throw Malformed() }
                    i += 1
                }
            } else if c == "\n" {
                throw Malformed()
            } else {
                field.append(c)
            }
            i += 1
        }
        guard !quoted, field.isEmpty, record.isEmpty else { throw Malformed() }
        return records
    }
}
