import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// Who may do what: every route against every role, secrets that do not work, leases bound to
/// the token that took them, reporters held to their own jobs, and the loopback rule.
@Suite struct AuthenticationTests {
    /// One secret per role (and a second reporter and worker).
    struct Secrets {
        var admin, reporter, otherReporter, worker, otherWorker, monitor: String
    }

    static func secrets(_ coordinator: Coordinator) async throws -> Secrets {
        func make(_ user: String, _ role: Role) async throws -> String {
            let secret = try #require(try await coordinator.createToken(TokenRequest(user: user, role: role)).secret)
            #expect(secret.hasPrefix("tally_"))
            return secret
        }
        return Secrets(
            admin: try await make("ada", .admin), reporter: try await make("rita", .reporter),
            otherReporter: try await make("rob", .reporter), worker: try await make("w-one", .worker),
            otherWorker: try await make("w-two", .worker), monitor: try await make("prometheus", .monitor))
    }

    static func headers(_ secret: String?, contentType: String? = "application/json") -> HTTPFields {
        var headers = HTTPFields()
        if let secret { headers[.authorization] = "Bearer " + secret }
        if let contentType { headers[.contentType] = contentType }
        return headers
    }

    @Test func everyRouteAgainstEveryRole() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await Self.secrets(coordinator)
        try await withClient(coordinator) { client in
            // A job of the reporter's, to read and cancel.
            let created = try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers(s.reporter), body: jobRequest())
            #expect(created.status == .accepted, "\(created.text)")
            let job = try created.decode(JobStatus.self).id
            typealias Call = (method: HTTPRequest.Method, uri: String, body: String?, contentType: String?, allowed: Set<Role>)
            let calls: [Call] = [
                (.post, "/v1/jobs", String(buffer: jobRequest()), "application/json", [.admin, .reporter]),
                (.get, "/v1/jobs", nil, nil, [.admin, .reporter]),
                (.get, "/v1/jobs/\(job)", nil, nil, [.admin, .reporter]),
                (.get, "/v1/jobs/\(job)/result", nil, nil, [.admin, .reporter]),
                (.post, "/v1/jobs/\(job)/notify", nil, nil, [.admin, .reporter]),
                (.post, "/v1/worker/lease", String(buffer: leaseRequest("w")), "application/json", [.worker]),
                (.post, "/v1/worker/leases/nope/heartbeat", nil, nil, [.worker]),
                (.put, "/v1/worker/leases/nope/partial", "x", "application/octet-stream", [.worker]),
                (.post, "/v1/worker/leases/nope/failure", #"{"reason":"r"}"#, "application/json", [.worker]),
                (.get, "/v1/tokens", nil, nil, [.admin]),
                (.post, "/v1/tokens", #"{"user":"x","role":"monitor"}"#, "application/json", [.admin]),
                (.delete, "/v1/tokens/nope", nil, nil, [.admin]),
                (.get, "/v1/schedules", nil, nil, [.admin]),
                (
                    .post, "/v1/schedules",
                    #"{"name":"x","report":"active-users","source":"local","window":"previous-day","every":"daily","at":"06:00"}"#,
                    "application/json", [.admin]
                ),
                (.delete, "/v1/schedules/nope", nil, nil, [.admin]),
                (.get, "/v1/activity", nil, nil, [.admin]),
                (.get, "/v1/users/rita/activity", nil, nil, [.admin]),
                (.put, "/v1/users/rita/activity", #"{"enabled":true,"logs":["default"]}"#, "application/json", [.admin]),
                (.get, "/metrics", nil, nil, [.admin, .monitor]),
                (.delete, "/v1/jobs/\(job)", nil, nil, [.admin, .reporter]),
            ]
            let byRole: [(Role, String)] = [(.admin, s.admin), (.reporter, s.reporter), (.worker, s.worker), (.monitor, s.monitor)]
            for call in calls {
                for (role, secret) in byRole {
                    let response = try await client.execute(
                        uri: call.uri, method: call.method, headers: Self.headers(secret, contentType: call.contentType),
                        body: call.body.map { ByteBuffer(string: $0) })
                    if call.allowed.contains(role) {
                        #expect(
                            response.status != .forbidden && response.status != .unauthorized,
                            "\(role) \(call.method) \(call.uri): \(response.status) \(response.text)")
                    } else {
                        try expectError(response, .forbidden, field: nil, containing: "the \(role.rawValue) role may not")
                    }
                }
                // Without a secret, every one of them is 401 once tokens exist.
                let anonymous = try await client.execute(
                    uri: call.uri, method: call.method, headers: Self.headers(nil, contentType: call.contentType),
                    body: call.body.map { ByteBuffer(string: $0) })
                try expectError(anonymous, .unauthorized, field: nil, containing: "missing Authorization")
            }
            // /healthz needs nothing.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test func secretsThatDoNotWorkAre401WithTheReason() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await Self.secrets(coordinator)
        let shortLivedSecret = try #require(
            try await coordinator.createToken(TokenRequest(user: "temp", role: .admin, expiresDays: 1)).secret)
        try await withClient(coordinator) { client in
            func get(_ authorization: String) async throws -> TestResponse {
                var headers = HTTPFields()
                headers[.authorization] = authorization
                return try await client.execute(uri: "/v1/jobs", method: .get, headers: headers)
            }
            try expectError(try await get("Bearer tally_not-a-real-secret"), .unauthorized, field: nil, containing: "unknown secret")
            try expectError(try await get("Basic abc"), .unauthorized, field: nil, containing: "Bearer <secret>")
            #expect(try await get("Bearer \(shortLivedSecret)").status == .ok)
            fixture.clock.advance(by: 86_401)
            try expectError(try await get("Bearer \(shortLivedSecret)"), .unauthorized, field: nil, containing: "has expired")
            // Revoked through the API: refused at once.
            let list = try await client.execute(uri: "/v1/tokens", method: .get, headers: Self.headers(s.admin)).decode(TokenList.self)
            #expect(list.tokens.allSatisfy { $0.secret == nil })
            let rita = try #require(list.tokens.first { $0.user == "rita" })
            #expect(rita.fingerprint == String(s.reporter.suffix(4)))
            #expect(
                try await client.execute(uri: "/v1/tokens/\(rita.id)", method: .delete, headers: Self.headers(s.admin)).status == .noContent
            )
            try expectError(try await get("Bearer \(s.reporter)"), .unauthorized, field: nil, containing: "was revoked")
        }
        // Only hashes are stored: no secret appears in the database files.
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.dataDirectory).filter { $0.hasPrefix("tally.sqlite") }
        for file in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.dataDirectory + "/" + file))
            for secret in [s.admin, s.reporter, s.worker] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds a secret")
            }
        }
    }

    @Test func aLeaseIsBoundToTheTokenThatTookIt() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await Self.secrets(coordinator)
        try await withClient(coordinator) { client in
            #expect(
                try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers(s.admin), body: jobRequest()).status
                    == .accepted)
            await coordinator.runOnce()
            let grant = try await client.execute(
                uri: "/v1/worker/lease", method: .post, headers: Self.headers(s.worker), body: leaseRequest("w1")
            )
            .decode(LeaseGrant.self)
            let bytes = try await partialBytes(for: grant)
            let other = Self.headers(s.otherWorker, contentType: nil)
            try expectError(
                try await client.execute(uri: "/v1/worker/leases/\(grant.leaseId)/heartbeat", method: .post, headers: other),
                .forbidden, field: "lease", containing: "another token")
            try expectError(
                try await client.execute(
                    uri: "/v1/worker/leases/\(grant.leaseId)/partial", method: .put,
                    headers: Self.headers(s.otherWorker, contentType: "application/octet-stream"),
                    body: ByteBuffer(bytes: bytes)), .forbidden, field: "lease")
            try expectError(
                try await client.execute(
                    uri: "/v1/worker/leases/\(grant.leaseId)/failure", method: .post,
                    headers: Self.headers(s.otherWorker), body: json(#"{"reason":"x","permanent":true}"#)),
                .forbidden, field: "lease")
            // Its own token still works: the forged calls changed nothing.
            let upload = try await client.execute(
                uri: "/v1/worker/leases/\(grant.leaseId)/partial", method: .put,
                headers: Self.headers(s.worker, contentType: "application/octet-stream"), body: ByteBuffer(bytes: bytes))
            #expect(try upload.decode(UploadReply.self).committed)
        }
    }

    @Test func reportersSeeOnlyTheirOwnJobs() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await Self.secrets(coordinator)
        try await withClient(coordinator) { client in
            let mine = try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers(s.reporter), body: jobRequest())
                .decode(JobStatus.self)
            let theirs = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: Self.headers(s.otherReporter), body: jobRequest()
            )
            .decode(JobStatus.self)
            let listed = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.reporter)).decode(JobList.self)
            #expect(listed.jobs.map(\.id) == [mine.id])
            for (method, uri) in [
                (HTTPRequest.Method.get, "/v1/jobs/\(theirs.id)"), (.get, "/v1/jobs/\(theirs.id)/result"),
                (.delete, "/v1/jobs/\(theirs.id)"),
            ] {
                try expectError(
                    try await client.execute(uri: uri, method: method, headers: Self.headers(s.reporter)), .notFound, field: "id")
            }
            let all = try await client.execute(uri: "/v1/jobs", method: .get, headers: Self.headers(s.admin)).decode(JobList.self)
            #expect(Set(all.jobs.map(\.id)) == [mine.id, theirs.id])
        }
    }

    @Test func withoutTokensOnlyLoopbackIsAllowed() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.listenHost = "0.0.0.0"
        let exposed = try Coordinator(configuration: configuration, clock: fixture.clock)
        await #expect(throws: CoordinatorError.self) { try await exposed.checkListenAddress() }
        configuration.listenHost = "127.0.0.1"
        try await Coordinator(configuration: configuration, clock: fixture.clock).checkListenAddress()
        _ = try await exposed.createToken(TokenRequest(user: "ada", role: .admin))
        try await exposed.checkListenAddress()
    }
}
