import Foundation
import Hummingbird
import HummingbirdTesting
import TallyNotifications
import TallyProtocol
import TallyStore
import Testing

@testable import TallyCoordinator

/// What a hostile web page, a guessing client or a greedy reporter can no longer do
/// (docs/security.md): drive the open mode, reach a route nobody listed, fan notifications
/// out, bloat the activity log, guess secrets quietly, hold every connection, read data files.
@Suite struct HostilePageTests {
    func headers(_ fields: [(String, String)], json: Bool = true) -> HTTPFields {
        var headers = json ? jsonHeaders : HTTPFields()
        for (name, value) in fields { headers[.init(name)!] = value }
        return headers
    }

    @Test func theOpenModeRefusesForeignHostsAndCrossSiteChanges() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            // DNS rebinding: the page's own host name reaches loopback.
            for uri in ["/v1/jobs", "/admin/tokens", "/"] {
                let response = try await client.execute(uri: uri, method: .get, headers: headers([("Host", "attacker.example")]))
                #expect(response.status == .forbidden, "\(uri): \(response.text)")
            }
            try expectError(
                try await client.execute(
                    uri: "/v1/tokens", method: .post, headers: headers([("Host", "attacker.example:8080")]),
                    body: json(#"{"user":"eve","role":"admin"}"#)), .forbidden, field: nil, containing: "attacker.example")
            // A page on another site or port, even with the right Host.
            for (name, value) in [
                ("Origin", "https://evil.example"), ("Origin", "http://127.0.0.1:3000"), ("Sec-Fetch-Site", "cross-site"),
                ("Sec-Fetch-Site", "same-site"),
            ] {
                let response = try await client.execute(
                    uri: "/v1/tokens", method: .post, headers: headers([("Host", "127.0.0.1:8080"), (name, value)]),
                    body: json(#"{"user":"eve","role":"admin"}"#))
                try expectError(response, .forbidden, field: nil, containing: "from another")
            }
            #expect(try await client.execute(uri: "/v1/tokens", method: .get).decode(TokenList.self).tokens.isEmpty)
            // Loopback names, the same origin, and clients that are not browsers are served.
            for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "127.1.2.3"] {
                #expect(
                    try await client.execute(uri: "/v1/jobs", method: .get, headers: headers([("Host", host)])).status == .ok, "\(host)")
            }
            let same = try await client.execute(
                uri: "/v1/jobs", method: .post,
                headers: headers([
                    ("Host", "127.0.0.1:8080"), ("Origin", "http://127.0.0.1:8080"),
                    ("Sec-Fetch-Site", "same-origin"),
                ]), body: jobRequest())
            #expect(same.status == .accepted, "\(same.text)")
        }
        // With tokens the Host is not what protects: a secret is needed anyway.
        let s = try await AuthenticationTests.secrets(coordinator)
        var foreign = AuthenticationTests.headers(s.reporter)
        foreign[.init("Host")!] = "tally.example.com"
        let status = try await withClient(coordinator) { [foreign] client in
            try await client.execute(uri: "/v1/jobs", method: .get, headers: foreign).status
        }
        #expect(status == .ok)
    }

    @Test func loopbackIsParsedNotMatchedByPrefix() {
        for host in ["127.0.0.1", "127.255.3.4", "::1", "[::1]", "0:0:0:0:0:0:0:1", "localhost", "LOCALHOST"] {
            #expect(LoopbackAddress.contains(host), "\(host)")
        }
        for host in [
            "127.evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "128.0.0.1", "::2", "0.0.0.0", "", "1270.0.0.1",
        ] {
            #expect(!LoopbackAddress.contains(host), "\(host)")
        }
        #expect(LoopbackAddress.host(ofAuthority: "[::1]:8080") == "::1")
        #expect(LoopbackAddress.host(ofAuthority: "127.0.0.1:80") == "127.0.0.1")
        #expect(LoopbackAddress.host(ofAuthority: "localhost") == "localhost")
    }

    /// Every route behind the authentication middleware was registered with its operation, and
    /// one added without is refused, never served as the open mode's admin.
    @Test func everyRouteHasAnOperationAndAnUnlistedOneIsRefused() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let (router, roles) = coordinator.routes()
        // Served without a token by design: health, readiness, sign-in and the pages' assets.
        let publicRoutes: Set<String> = ["GET /healthz", "GET /readyz", "GET /sign-in", "POST /sign-in", "GET /assets/{name}"]
        var checked = 0
        for route in router.routes {
            let path = RoleTable.normalized(route.path.description)
            let name = "\(route.method) \(path)"
            if publicRoutes.contains(name) { continue }
            #expect(roles.operation(method: route.method, route: path) != nil, "\(name) has no operation in the role table")
            checked += 1
        }
        #expect(checked == roles.all.count && checked >= 35)
        router.get("v1/unlisted") { _, _ in "served" }
        let app = Application(responder: MethodCheckingResponder(router: router))
        try await app.test(.router) { client in
            try expectError(try await client.execute(uri: "/v1/unlisted", method: .get), .forbidden, field: nil, containing: "role table")
            #expect(try await client.execute(uri: "/v1/nothing", method: .get).status == .notFound)
        }
    }

    /// docs/security.md's role table is the one the routes were registered with.
    @Test func theSecurityDocumentsRoleTableIsTheCodes() throws {
        let fixture = try Fixture()
        let table = try fixture.coordinator().routes().roles.markdown
        let doc = try String(contentsOfFile: #filePath.components(separatedBy: "/Tests/")[0] + "/docs/security.md", encoding: .utf8)
        let begin = "<!-- role table: made from the routes' declarations; RoleTable.markdown -->\n"
        let section = try #require(
            doc.components(separatedBy: begin).dropFirst().first?.components(separatedBy: "<!-- end of role table -->").first)
        #expect(section == table, "docs/security.md's role table differs from the code's; put this in it:\n\(table)")
    }

    @Test func notificationsAreDeduplicatedBoundedOwnTargetsOnlyAndRateLimited() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        for name in "abcdefghi" {
            configuration.notifications.targets[String(name)] = try WebhookTarget(
                name: String(name), url: "http://127.0.0.1:9/\(name)",
                secret: "whsec_" + Data(repeating: 7, count: 24).base64EncodedString())
        }
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock)
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            func submit(_ notify: [String]) async throws -> TestResponse {
                let list = notify.map { "\"\($0)\"" }.joined(separator: ",")
                return try await client.execute(
                    uri: "/v1/jobs", method: .post, headers: AuthenticationTests.headers(s.reporter),
                    body: json(
                        #"{"report":"active-users","source":"local","from":"\#(windowFrom)","to":"\#(windowTo)","notify":[\#(list)]}"#))
            }
            try expectError(
                try await submit(["a", "b", "c", "d", "e", "f", "g", "h", "i"]), .badRequest, field: "notify", containing: "at most 8")
            let job = try await submit(["a", "a", "b", "a"] + Array(repeating: "b", count: 50)).decode(JobStatus.self)
            #expect(try await coordinator.store.job(job.id)?.definition.notifyTargets == ["a", "b"])
            _ = try await client.execute(uri: "/v1/jobs/\(job.id)", method: .delete, headers: AuthenticationTests.headers(s.reporter))
            _ = try await coordinator.store.finish(job.id, as: .failed, error: "x", now: fixture.clock.now())
            let failedJob = try #require(try await coordinator.store.job(job.id))
            #expect(failedJob.state == .cancelled || failedJob.state == .failed)
            // A job that ended (cancelled jobs are not announced): fail one directly.
            let ended = try await submit(["a"]).decode(JobStatus.self)
            _ = try await coordinator.store.finish(ended.id, as: .failed, error: "broken", now: fixture.clock.now())
            func notify(_ secret: String, _ target: String? = nil) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/jobs/\(ended.id)/notify" + (target.map { "?target=\($0)" } ?? ""), method: .post,
                    headers: AuthenticationTests.headers(secret))
            }
            try expectError(try await notify(s.reporter, "c"), .forbidden, field: "target", containing: "does not name the target 'c'")
            #expect(try await notify(s.admin, "c").status == .accepted)
            #expect(try await notify(s.reporter).status == .accepted)
            #expect(try await notify(s.reporter, "a").status == .accepted)
            let fourth = try await notify(s.reporter)
            try expectError(fourth, .tooManyRequests, field: nil, containing: "3 times in the last hour")
            #expect(fourth.headers[.retryAfter] == "3600")
            fixture.clock.advance(by: 3601)
            #expect(try await notify(s.reporter).status == .accepted)
        }
    }

    @Test func notificationAddressesAreDeduplicatedWhateverTheirCase() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.notifications.email = EmailSettings(
            server: "127.0.0.1", port: 9, sender: "tally@example.com", username: nil, password: nil,
            caFile: nil, allowedDomains: ["example.com"])
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock)
        try await withClient(coordinator) { client in
            let addresses = (0..<40).map { #""Ops@Example.com","ops@example.com","# + #""x\#($0 % 2)@example.com""# }.joined(separator: ",")
            let response = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: jsonHeaders,
                body: json(
                    #"{"report":"active-users","source":"local","from":"\#(windowFrom)","to":"\#(windowTo)","notify_emails":[\#(addresses)]}"#
                ))
            let job = try response.decode(JobStatus.self)
            #expect(
                try await coordinator.store.job(job.id)?.definition.notifyEmails == ["Ops@Example.com", "x0@example.com", "x1@example.com"])
            let many = (0..<17).map { #""u\#($0)@example.com""# }.joined(separator: ",")
            try expectError(
                try await client.execute(
                    uri: "/v1/jobs", method: .post, headers: jsonHeaders,
                    body: json(
                        #"{"report":"active-users","source":"local","from":"\#(windowFrom)","to":"\#(windowTo)","notify_emails":[\#(many)]}"#
                    )),
                .badRequest, field: "notify_emails", containing: "at most 16 addresses")
        }
    }

    @Test func activityRowsKeepAFewKilobytesOfAHugeQuery() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            let huge = String(repeating: "x", count: 78_000)
            let many = (0..<300).map { "k\($0)=v" }.joined(separator: "&")
            // Refused (a worker may not list jobs), and still logged: bounded.
            #expect(
                try await client.execute(
                    uri: "/v1/jobs?limit=\(huge)&\(many)", method: .get, headers: AuthenticationTests.headers(s.worker)
                ).status == .forbidden)
            try await coordinator.activity.flush()
            let rows = try await ActivityLogTests.exportCSV(client, admin: s.admin).rows
            let row = try #require(rows.first { $0["operation"] == "list_jobs" })
            let params = try #require(row["params"])
            #expect(params.utf8.count <= ActivityRecord.maximumObjectBytes, "\(params.utf8.count)")
            #expect(params.hasPrefix(#"{"limit":"xxxx"#) && params.contains("…"))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(params.utf8)) as? [String: Any])
            #expect((object["_cut"] as? Int ?? 0) > 78_000 - 256)
        }
        #expect(JSONText.boundedObject([("a", "b")], maximumBytes: 2048, maximumValueBytes: 256) == #"{"a":"b"}"#)
    }

    @Test func refusedSecretsAreCountedLoggedAndThrottledPerClient() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let s = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            let wrong = AuthenticationTests.headers("tally_" + String(repeating: "x", count: 43))
            for _ in 0..<AuthenticationFailures.defaultMaximumFailures {
                #expect(try await client.execute(uri: "/v1/jobs", method: .get, headers: wrong).status == .unauthorized)
            }
            let throttled = try await client.execute(uri: "/v1/jobs", method: .get, headers: wrong)
            try expectError(throttled, .tooManyRequests, field: nil, containing: "too many refused secrets")
            #expect(throttled.headers[.retryAfter] == "60")
            // The right secret from that client waits too (the client is throttled, not the secret).
            #expect(
                try await client.execute(uri: "/v1/jobs", method: .get, headers: AuthenticationTests.headers(s.admin)).status
                    == .tooManyRequests)
            // The sign-in form is held to the same count.
            var form = HTTPFields()
            form[.contentType] = "application/x-www-form-urlencoded"
            form[.cookie] = "\(WebSessionCookie.formName)=\(String(repeating: "f", count: 43))"
            let signIn = try await client.execute(
                uri: "/sign-in", method: .post, headers: form,
                body: ByteBuffer(string: "secret=\(s.admin)&form_token=\(String(repeating: "f", count: 43))"))
            #expect(signIn.status == .tooManyRequests && signIn.text.contains("too many refused secrets"), "\(signIn.status)")
            #expect(signIn.headers[.retryAfter] == "60")
            fixture.clock.advance(by: 61)
            #expect(try await client.execute(uri: "/v1/jobs", method: .get, headers: AuthenticationTests.headers(s.admin)).status == .ok)
            let text = try await client.execute(uri: "/metrics", method: .get, headers: AuthenticationTests.headers(s.monitor)).text
            #expect(
                metric(text, #"tally_authentication_failures_total{reason="unknown"}"#)
                    == Double(AuthenticationFailures.defaultMaximumFailures), "\(text)")
            #expect(metric(text, #"tally_authentication_failures_total{reason="throttled"}"#) == 3, "\(text)")
        }
    }

    @Test func oneClientCannotTakeEveryConnection() {
        let count = ConnectionCount(limit: 4, perClient: 2)
        #expect(count.enter(client: "10.0.0.1") && count.enter(client: "10.0.0.1"))
        #expect(!count.enter(client: "10.0.0.1"))
        #expect(count.enter(client: "10.0.0.2") && count.enter(client: "10.0.0.2"))
        #expect(!count.enter(client: "10.0.0.3"))
        count.leave(client: "10.0.0.1")
        #expect(count.enter(client: "10.0.0.3"))
        #expect(!count.enter(client: "10.0.0.3") || count.current <= 4)
        #expect(count.current == 4)
    }

    @Test func dataFilesAreTheCoordinatorUsersAlone() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withPlannedJob(coordinator) { client, job in
            try await workUntilNoTasks(client)
            await coordinator.runOnce()
            #expect(try await getJob(client, job.id).state == .succeeded)
            func mode(_ path: String) throws -> Int {
                (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1) & 0o777
            }
            #expect(try mode(fixture.dataDirectory) == 0o700)
            #expect(try mode(coordinator.files.resultPath(job.id)) == 0o600)
            #expect(try mode(coordinator.files.gzipResultPath(job.id)) == 0o600)
            // A PostgreSQL store keeps no database file here: its files are the server's.
            if fixture.store == .sqlite {
                #expect(try mode(coordinator.files.databasePath) == 0o600)
                #expect(try mode(coordinator.files.activityDatabasePath) == 0o600)
            }
        }
    }
}
