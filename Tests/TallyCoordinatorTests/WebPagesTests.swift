import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import TallyReport
import TallyWeb
import Testing

@testable import TallyCoordinator

/// The Reports pages driven in process: sign-in and its session, the form token, the headers,
/// a role kept out of a page, and the pieces the pages are made of (the browser tests in
/// tests/e2e/test_web.py drive them through Chromium).
@Suite struct WebPagesTests {
    static func cookie(_ response: TestResponse, _ name: String) -> String? {
        for value in response.headers[values: .setCookie] where value.hasPrefix(name + "=") {
            return String(value.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    static func formToken(_ html: String) -> String? {
        html.components(separatedBy: #"name="form_token" value=""#).dropFirst().first?.components(separatedBy: "\"").first
    }

    @Test func signInStartsASessionThePagesAndOnlyTheAPIReadsAccept() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        let secrets = try await AuthenticationTests.secrets(coordinator)
        try await withClient(coordinator) { client in
            // Without a session the pages send the browser to sign in.
            let home = try await client.execute(uri: "/", method: .get)
            #expect(home.status == .seeOther && home.headers[.location] == "/sign-in")
            let page = try await client.execute(uri: "/sign-in", method: .get)
            func header(_ name: String) -> String? { page.headers.first { $0.name.canonicalName == name.lowercased() }?.value }
            #expect(header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            #expect(header("X-Frame-Options") == "DENY" && header("Referrer-Policy") == "same-origin")
            let formCookie = try #require(Self.cookie(page, WebSessionCookie.formName))
            let token = try #require(Self.formToken(page.text))
            #expect(token == formCookie)
            func signIn(_ secret: String, token: String?) async throws -> TestResponse {
                var headers = HTTPFields()
                headers[.contentType] = "application/x-www-form-urlencoded"
                headers[.cookie] = "\(WebSessionCookie.formName)=\(formCookie)"
                let body = "secret=\(secret)" + (token.map { "&form_token=\($0)" } ?? "")
                return try await client.execute(uri: "/sign-in", method: .post, headers: headers, body: ByteBuffer(string: body))
            }
            #expect(try await signIn(secrets.reporter, token: nil).status == .forbidden)
            let worker = try await signIn(secrets.worker, token: token)
            #expect(worker.status == .forbidden && worker.text.contains("a worker secret cannot sign in"))
            let signedIn = try await signIn(secrets.reporter, token: token)
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/")
            let setCookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix(WebSessionCookie.name + "=") })
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let session = try #require(Self.cookie(signedIn, WebSessionCookie.name))
            var headers = HTTPFields()
            headers[.cookie] = "\(WebSessionCookie.name)=\(session)"
            let list = try await client.execute(uri: "/", method: .get, headers: headers)
            #expect(list.status == .ok && list.text.contains("rita (reporter)"))
            // A reporter is kept out of an admin page, with the reason on an HTML page.
            let admin = try await client.execute(uri: "/admin/tokens", method: .get, headers: headers)
            #expect(admin.status == .forbidden && admin.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(admin.text.contains("the reporter role may not list_tokens"))
            // The cookie reads the API, and changes nothing through it.
            #expect(try await client.execute(uri: "/v1/jobs", method: .get, headers: headers).status == .ok)
            headers[.contentType] = "application/json"
            #expect(try await client.execute(uri: "/v1/jobs", method: .post, headers: headers, body: jobRequest()).status == .unauthorized)
            // A form without the session's token is refused; with it, a job is made.
            headers[.contentType] = "application/x-www-form-urlencoded"
            let form = "report=active-users&source=local&from=2026-10-01&to=2026-10-01&timezone=UTC"
            #expect(
                try await client.execute(uri: "/reports", method: .post, headers: headers, body: ByteBuffer(string: form)).status
                    == .forbidden)
            let sessionToken = try #require(Self.formToken(list.text))
            let made = try await client.execute(
                uri: "/reports", method: .post, headers: headers,
                body: ByteBuffer(string: form + "&form_token=\(sessionToken)"))
            #expect(made.status == .seeOther)
            let jobs = try await client.execute(uri: "/v1/jobs", method: .get, headers: AuthenticationTests.headers(secrets.reporter))
                .decode(JobList.self)
            // The last day is included: the window ends at the start of the next day.
            #expect(jobs.jobs.map(\.windowTo) == ["2026-10-02T00:00:00Z"])
            // Signed out, the session is gone.
            let out = try await client.execute(
                uri: "/sign-out", method: .post, headers: headers,
                body: ByteBuffer(string: "form_token=\(sessionToken)"))
            #expect(out.status == .seeOther && out.headers[.location] == "/sign-in")
            headers[.contentType] = nil
            #expect(try await client.execute(uri: "/", method: .get, headers: headers).headers[.location] == "/sign-in")
        }
    }

    @Test func reportFiguresComeFromTheCSV() throws {
        let csv = """
            user_email,last_access_date,total_connections,success_connections,failed_connections,failed_connections_dns,failed_connections_other,total_bytes,bytes_transferred,bytes_received,percent_relay,percent_p2p,active_devices,num_of_client_ip,top_10_client_ips
            a@x,2026-10-01T00:00:00.000Z,10,8,2,1,1,1000,600,400,50.00,50.00,1,1,1.1.1.1
            "b, ""q""@x",2026-10-01T00:00:00.000Z,30,30,0,0,0,5,3,2,10.00,90.00,2,5,2.2.2.2;3.3.3.3

            """
        let figures = try ReportFigures(csv: Array(csv.utf8), name: "result.csv")
        #expect(figures.rows.count == 2 && figures.rows[1][0] == #"b, "q"@x"#)
        let glance = Dictionary(uniqueKeysWithValues: figures.glance.map { ($0.id, $0.value) })
        #expect(
            glance == [
                "users": "2", "connections": "40", "failed-share": "5.00 %", "dns-failures": "1", "bytes": "1,005",
                "relay-share": "18.42 %",
            ])  // (0.5·8 + 0.1·30) / 38 = 7 / 38
        #expect(figures.topUsers.map(\.value) == [30, 10])
        #expect(
            figures.clientIPBuckets.map(\.label) == ["0", "1", "2", "3–4", "5–8"]
                && figures.clientIPBuckets.map(\.value) == [0, 1, 0, 0, 1])
        #expect(figures.sorted(by: "total_connections", descending: false).map { $0[0] } == ["a@x", #"b, "q"@x"#])
        #expect(
            SVGChart.bars(figures.topUsers, title: "<t>").contains("b, &quot;q&quot;@x")
                && !SVGChart.bars(figures.topUsers, title: "<t>").contains("<t>"))
    }

    /// A result too large to read back: the figures come from its summary, the preview from its
    /// first whole rows (a row cut by the head is left out), unsorted.
    @Test func aLargeResultsFiguresComeFromItsSummaryAndItsPreviewFromItsHead() throws {
        let csv = Array(
            """
            user_email,total_connections,num_of_client_ip
            a@x,10,1
            b@x,30,5
            c@x,20,2

            """.utf8)
        let head = Array(csv.prefix(csv.count - 4))  // inside c@x's row
        let figures = try ReportFigures(summary: ReportSummary(csv: csv), head: head, name: "result.csv", limit: 100)
        #expect(figures.rows.map { $0[0] } == ["a@x", "b@x"] && !figures.rowsAreWhole)
        #expect(figures.glance.first?.value == "3" && figures.topUsers.map(\.value) == [30, 20, 10])
        let all = try ReportFigures(summary: ReportSummary(csv: csv), head: csv, name: "result.csv", limit: 100)
        #expect(all.rows.count == 3 && all.rowsAreWhole)
    }

    @Test func formsDatesAndAbsentValues() {
        let form = WebForm(text: "notify=a&notify=b%20c&secret=x+y%2Bz&empty=")
        #expect(form.values["notify"] == ["a", "b c"] && form.value("secret") == "x y+z" && form.value("empty") == "")
        #expect(WebRoutes.dayAfter("2026-12-31") == "2027-01-01" && WebRoutes.dayAfter("2028-02-28") == "2028-02-29")
        #expect(WebRoutes.dayAfter("2026-02-30") == nil && WebRoutes.dayAfter("yesterday") == nil)
        let cleaned =
            WebPage.withoutAbsentValues(["a": Optional<String>.none as Any, "b": [Optional("x") as Any]] as [String: Any]) as? [String: Any]
        #expect(cleaned?["a"] == nil && (cleaned?["b"] as? [Any])?.first as? String == "x")
    }
}
