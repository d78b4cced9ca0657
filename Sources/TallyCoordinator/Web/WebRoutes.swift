import Foundation
import Hummingbird
import NIOPosix
import TallyAccess
import TallyFormats
import TallyProtocol
import TallyReport
import TallyServices
import TallyStore
import TallyWeb

/// The Reports pages (docs/security.md, docs/operations.md): sign-in, the list, the Generate
/// form, a report's page, downloads and cancel. Server-rendered; every state change is a form
/// checked by `FormGuard`; jobs are made, shown, cancelled and downloaded by the API's service
/// (`JobService`).
struct WebRoutes: Sendable {
    let jobs: JobService
    let store: any JobStore
    let tokens: any TokenStore
    let sessions: any SessionStore
    let files: DataDirectory
    let configuration: CoordinatorConfiguration
    let clock: any CoordinatorClock
    let threadPool: NIOThreadPool
    let failures: AuthenticationFailures

    /// Reports per page.
    static let pageSize = 20
    /// Rows the report page previews.
    static let previewRows = 100
    /// The largest result file the report page reads whole, for a preview sorted by any column
    /// (a report of about 200,000 users); of a larger one it reads the first rows, unsorted. The
    /// figures and charts come from the result's summary whatever its size.
    static let maximumSortableBytes = 32 << 20
    /// The most bytes of a larger result read for its preview.
    static let previewHeadBytes = 1 << 20

    private var secure: Bool { configuration.tls != nil }

    /// Routes that need no session: the sign-in page and the assets (added before authentication).
    func addPublic(to router: Router<CoordinatorRequestContext>) {
        router.get("assets/:name") { _, context in
            guard let asset = WebAssets.asset(context.parameters.get("name") ?? "") else {
                throw APIError(.notFound, "no such asset")
            }
            return Response(
                status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: asset.body)))
        }
        router.get("sign-in") { request, _ in signInPage(request, error: nil) }
        router.post("sign-in") { request, context in try await signIn(request, client: context.clientAddress) }
    }

    /// The pages behind the session (added after authentication, which sends a browser without
    /// one to the sign-in page).
    func add(to router: SecuredRouter) {
        router.get("/", .viewReports) { request, context in try await reportsPage(request, context.identity) }
        router.get("reports/new", .newReport) { request, context in generatePage(request, context.identity, values: [:], errors: [:]) }
        router.post("reports", .generateReport) { request, context in try await generate(request, context.identity) }
        router.get("reports/:id", .viewReport) { request, context in
            try await reportPage(request, context.identity, id: context.parameters.get("id") ?? "")
        }
        router.post("reports/:id/cancel", .cancelReport) { request, context in
            _ = try await WebForm.checked(request, identity: context.identity)
            _ = try await jobs.cancel(try await jobs.visibleJob(context.parameters.get("id") ?? "", to: context.identity))
            return WebPage.redirect(to: "/")
        }
        router.get("reports/:id/download", .downloadReport) { request, context in
            try await download(
                try await jobs.visibleJob(context.parameters.get("id") ?? "", to: context.identity),
                gzip: request.uri.queryParameters["gzip"] == "1", context: context)
        }
        router.post("sign-out", .signOut) { request, context in
            _ = try await WebForm.checked(request, identity: context.identity)
            if let cookie = request.cookies[WebSessionCookie.name] {
                try await sessions.deleteSession(idHash: TokenSecret.hash(cookie.value))
            }
            return WebPage.redirect(to: "/sign-in", clearingSession: true)
        }
    }

    // MARK: Sign-in

    private func signInPage(_ request: Request, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        render(
            "sign-in", title: "Sign in", data: ["error": error as Any], identity: .open, request: request, signedIn: false, status: status)
    }

    private func signIn(_ request: Request, client: String) async throws -> Response {
        let form = try await WebForm.checked(request, identity: .open)
        let token: AccessToken
        do {
            try failures.checkNotThrottled(client: client)
            token = try await AuthenticationMiddleware.token(
                secret: form.value("secret") ?? "", in: tokens, now: clock.now(),
                failures: failures, client: client)
        } catch let error as APIError {
            // A refused secret is 401; a throttled client 429 with the time to wait, as on the API.
            var page = signInPage(
                request, error: error.body.error, status: error.status == .tooManyRequests ? .tooManyRequests : .unauthorized)
            for field in error.headers { page.headers.append(field) }
            return page
        }
        guard token.role == .admin || token.role == .reporter else {
            failures.record(client: client, reason: "role", message: "a \(token.role.rawValue) secret tried to sign in")
            return signInPage(
                request, error: "a \(token.role.rawValue) secret cannot sign in: the pages are for admin and reporter tokens",
                status: .forbidden)
        }
        let id = WebSessionCookie.randomValue()
        let now = clock.now()
        // A session never outlives its token.
        let expires = min(now + WebSessionCookie.lifetimeSeconds, token.expiresAt ?? .infinity)
        try await sessions.createSession(
            idHash: TokenSecret.hash(id), tokenId: token.id, formToken: WebSessionCookie.randomValue(),
            expiresAt: expires, now: now)
        return WebPage.redirect(
            to: "/", cookies: [WebSessionCookie.make(WebSessionCookie.name, value: id, maxAge: Int(expires - now), secure: secure)])
    }

    // MARK: Reports

    private func reportsPage(_ request: Request, _ identity: Identity) async throws -> Response {
        let zone = viewerZone(request)
        let before = request.uri.queryParameters["before"].flatMap { Int64($0) }
        let page = try await store.jobs(
            limit: Self.pageSize + 1, beforeSequence: before, owner: identity.role == .admin ? nil : identity.user)
        var rows: [[String: Any]] = []
        let shown = Array(page.prefix(Self.pageSize))
        for (job, status) in zip(shown, try await jobs.statuses(of: shown)) {
            let active = [.queued, .running, .merging].contains(status.state)
            let percent =
                status.progress.bytesTotal > 0
                ? Int(saturating: min(100, 100 * Double(status.progress.bytes) / Double(status.progress.bytesTotal))) : 0
            rows.append([
                "id": job.id, "report": job.definition.report.kind.rawValue, "source": job.definition.source, "owner": job.owner ?? "",
                "windowFrom": local(job.window.from, zone), "windowTo": local(job.window.to, zone), "state": status.state.rawValue,
                "active": active, "percent": percent,
                "eta": status.progress.etaSeconds.map { "\(Int64(saturating: $0.rounded(.up))) s left" } ?? "",
                "error": status.error as Any, "rows": status.users.map { ReportFigures.grouped(Int64($0)) } ?? "",
                "size": status.resultBytes.map(ByteSize.text) ?? "",
                "downloadable": status.state == .succeeded && status.resultBytes != nil,
                "expires": status.resultExpired == true ? "expired" : status.resultExpiresAt ?? "", "cancellable": active,
            ])
        }
        let next = page.count > Self.pageSize ? page.prefix(Self.pageSize).last.map { String($0.sequence) } : nil
        return render(
            "reports", title: "Reports", data: ["jobs": rows, "hasJobs": !rows.isEmpty, "next": next as Any, "zone": zone],
            identity: identity, request: request)
    }

    // MARK: Generate

    /// The kind picker's choices, in the page's order.
    static let kinds: [(value: String, id: String, name: String)] = [
        (ReportKind.activeUsers.rawValue, "active", "Active users"),
        (ReportKind.inactiveUsers.rawValue, "inactive", "Inactive users"),
        (ReportKind.networkSummary.rawValue, "network-summary", "Network summary (per Resource)"),
        (ReportKind.resourceAccess.rawValue, "resource-access", "Resource access (who reached what)"),
    ]

    private func generatePage(
        _ request: Request, _ identity: Identity, values: [String: [String]], errors: [String: String],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        func value(_ key: String) -> String? { values[key]?.first }
        let zone = value("timezone") ?? viewerZone(request)
        let chosenTargets = Set(values["notify"] ?? [])
        var data: [String: Any] = [
            "kinds": Self.kinds.map { kind in
                [
                    "value": kind.value, "id": kind.id, "name": kind.name,
                    "checked": kind.value == (value("report") ?? ReportKind.activeUsers.rawValue),
                ]
            },
            "sources": configuration.sources.keys.sorted().map { ["name": $0, "selected": $0 == value("source")] },
            "from": value("from") ?? "", "to": value("to") ?? "",
            "inactiveDays": value("inactive_days") ?? String(InactiveUsersSpec.defaultInactiveDays),
            "zones": WebPage.zones.map { ["name": $0, "selected": $0 == zone] },
            // Until the browser's zone is known (or a zone was chosen), its script picks it.
            "browserDefault": value("timezone") == nil && request.cookies["tally_tz"] == nil ? "true" : "false",
            "targets": configuration.notifications.targets.keys.sorted().map { ["name": $0, "selected": chosenTargets.contains($0)] },
            "hasTargets": !configuration.notifications.targets.isEmpty,
        ]
        for (field, message) in errors { data[field + "Error"] = message }
        return render("generate", title: "Generate a report", data: data, identity: identity, request: request, status: status)
    }

    private func generate(_ request: Request, _ identity: Identity) async throws -> Response {
        let form = try await WebForm.checked(request, identity: identity)
        let report = form.value("report") ?? ReportKind.activeUsers.rawValue
        var body = JobRequest(report: report, source: form.value("source") ?? "", timezone: form.value("timezone"))
        var errors: [String: String] = [:]
        if report == ReportKind.inactiveUsers.rawValue {
            guard let days = Int(form.value("inactive_days") ?? ""), days >= 1 else {
                return generatePage(
                    request, identity, values: form.values, errors: ["inactiveDays": "a whole number of days, at least 1"],
                    status: .badRequest)
            }
            body.inactiveDays = days
        } else {
            body.from = form.value("from")
            // The form's last day is included: the window ends at the start of the day after it.
            if let last = form.value("to"), !last.isEmpty {
                if let next = Self.dayAfter(last) { body.to = next } else { errors["to"] = "a date (YYYY-MM-DD)" }
            }
            if (body.from ?? "").isEmpty { errors["from"] = "the first day is needed" }
            if (body.to ?? "").isEmpty, errors["to"] == nil { errors["to"] = "the last day is needed" }
        }
        let targets = form.values["notify"] ?? []
        if !targets.isEmpty { body.notify = targets }
        guard errors.isEmpty else { return generatePage(request, identity, values: form.values, errors: errors, status: .badRequest) }
        do {
            _ = try await jobs.create(
                body, owner: identity.user, idempotencyKey: nil, maxActive: configuration.maxActiveJobsPerUser)
        } catch let error as JobError where error.kind != .keyReused {
            // The service's reason (the API's), next to the field it names.
            let field = (error.field ?? "").split(separator: "[").first.map(String.init) ?? ""
            // Targets are shown (with their error) only where some are configured.
            let known = [
                "report": "report", "source": "source", "from": "from", "to": "to", "timezone": "timezone",
                "inactive_days": "inactiveDays", "notify": configuration.notifications.targets.isEmpty ? "general" : "notify",
            ]
            return generatePage(
                request, identity, values: form.values, errors: [known[field] ?? "general": error.reason],
                status: error.kind == .tooManyActive ? .tooManyRequests : .badRequest)
        }
        return WebPage.redirect(to: "/")
    }

    /// `2026-10-31` → `2026-11-01`; nil for text that is not a date.
    static func dayAfter(_ text: String) -> String? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]), CivilTime.isValid(year: y, month: m, day: d)
        else { return nil }
        let next = CivilTime.civil(days: CivilTime.days(year: y, month: m, day: d) + 1)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(next.year)-\(two(next.month))-\(two(next.day))"
    }

    // MARK: A report

    private func reportPage(_ request: Request, _ identity: Identity, id: String) async throws -> Response {
        let job = try await jobs.visibleJob(id, to: identity)
        let status = try await jobs.status(of: job)
        let zone = viewerZone(request)
        let s = status.statistics
        var statistics: [[String: String]] = [
            ["id": "events", "name": "Events read", "value": ReportFigures.grouped(s.events)],
            ["id": "in-window", "name": "Events in the window", "value": ReportFigures.grouped(s.eventsInWindow)],
            ["id": "lines", "name": "Lines read", "value": ReportFigures.grouped(s.lines)],
            [
                "id": "service-account",
                "name": job.definition.report.shape.skipsServiceAccounts
                    ? "Service-account rows (left out)" : "Service-account rows (counted)",
                "value": ReportFigures.grouped(s.serviceAccountRows),
            ],
            ["id": "malformed", "name": "Malformed lines", "value": ReportFigures.grouped(s.malformedTotal)],
        ]
        for (reason, count) in s.malformed.sorted(by: { $0.key < $1.key }) {
            statistics.append(["id": "malformed-\(reason)", "name": "· \(reason)", "value": ReportFigures.grouped(count)])
        }
        statistics += [
            ["id": "shards-computed", "name": "Shards computed", "value": ReportFigures.grouped(s.shardsComputed ?? 0)],
            ["id": "shards-reused", "name": "Shards reused from the cache", "value": ReportFigures.grouped(s.shardsReused ?? 0)],
            ["id": "objects-read", "name": "Objects read", "value": ReportFigures.grouped(s.objectsRead ?? status.progress.objects)],
            ["id": "source-retries", "name": "Source reads retried", "value": ReportFigures.grouped(s.sourceRetries)],
            ["id": "copies", "name": "Worker copies (started / won)", "value": "\(s.taskCopiesStarted) / \(s.taskCopiesWon)"],
        ]
        var data: [String: Any] = [
            "id": job.id, "report": job.definition.report.kind.rawValue, "source": job.definition.source, "owner": job.owner ?? "",
            "state": status.state.rawValue,
            "error": status.error as Any, "zone": zone,
            "windowFromUTC": status.windowFrom, "windowToUTC": status.windowTo,
            "windowFromLocal": local(job.window.from, zone), "windowToLocal": local(job.window.to, zone),
            "notes": status.windowNotes ?? [], "statistics": statistics,
            "samples": s.malformedSamples.map { ["object": $0.object, "line": "\($0.line)", "reason": $0.reason] },
            "hasSamples": !s.malformedSamples.isEmpty,
            "downloadable": status.state == .succeeded && status.resultBytes != nil,
            "size": status.resultBytes.map(ByteSize.text) ?? "", "expires": status.resultExpiresAt ?? "",
        ]
        if status.state == .succeeded, status.resultBytes != nil, let figures = try await figures(of: job) {
            data["hasFigures"] = true
            data["glance"] = figures.glance.map { ["id": $0.id, "name": $0.name, "value": $0.value] }
            if figures.countsConnections, !figures.rows.isEmpty {
                data["hasCharts"] = true
                let top: (id: String, caption: String)
                let second: (id: String, caption: String, svg: String)
                switch figures.rowKey {
                case .user:
                    top = ("chart-top-users", "The 10 users with the most connections")
                    let caption = "Users by number of client IPs (log scale)"
                    second = ("chart-client-ips", caption, SVGChart.logColumns(figures.clientIPBuckets, title: caption))
                case .resource:
                    top = ("chart-top-resources", "The 10 Resources with the most connections")
                    let caption = "Relayed share of those Resources' successful connections (%)"
                    second = ("chart-relay-share", caption, SVGChart.bars(figures.topRelayShares, title: caption))
                case .userAndResource:
                    top = ("chart-top-access", "The 10 users and Resources with the most connections")
                    let caption = "User × Resource rows by number of client IPs (log scale)"
                    let svg = SVGChart.logColumns(figures.clientIPBuckets, title: caption, axis: "client IPs per user and Resource")
                    second = ("chart-client-ips", caption, svg)
                }
                data["topChartId"] = top.id
                data["topCaption"] = top.caption
                data["topChart"] = SVGChart.bars(figures.topUsers, title: top.caption)
                data["secondChartId"] = second.id
                data["secondCaption"] = second.caption
                data["secondChart"] = second.svg
            }
            let query = request.uri.queryParameters
            let sort = query["sort"].map(String.init).flatMap { figures.rowsAreWhole && figures.header.contains($0) ? $0 : nil }
            let descending = query["order"] == "desc"
            let rows = figures.sorted(by: sort, descending: descending).prefix(Self.previewRows)
            data["hasPreview"] = !figures.header.isEmpty
            data["previewCount"] = rows.count
            data["rowCount"] = ReportFigures.grouped(figures.summary.rows)
            data["previewUnsorted"] = !figures.rowsAreWhole
            data["columns"] = figures.header.map { name -> [String: String] in
                let current = name == sort
                // A partial preview sorts nothing: its columns are not links.
                let order = figures.rowsAreWhole ? (current && !descending ? "desc" : "asc") : ""
                return ["name": name, "order": order, "arrow": current ? (descending ? " ▼" : " ▲") : ""]
            }
            data["rows"] = rows.map { ["cells": $0] }
        }
        return render("report", title: "Report \(job.id)", data: data, identity: identity, request: request)
    }

    /// The result's figures, read off the cooperative pool: its summary (made from the file, a
    /// chunk at a time, for a result written before summaries were), and the whole file or its
    /// head for the preview; nil when the file is gone.
    private func figures(of job: JobRecord) async throws -> ReportFigures? {
        let (path, summaryPath) = (files.resultPath(job.id), files.summaryPath(job.id))
        guard try await jobs.blobs.fetch(path) else { return nil }
        _ = try await jobs.blobs.fetch(summaryPath)
        return try await threadPool.runIfActive {
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
                let file = FileHandle(forReadingAtPath: path)
            else { return nil }
            defer { try? file.close() }
            let stored = FileManager.default.contents(atPath: summaryPath).flatMap {
                try? JSONDecoder().decode(ReportSummary.self, from: $0)
            }
            if size <= Self.maximumSortableBytes {
                let csv = Array(try file.readToEnd() ?? Data())
                return try ReportFigures(summary: stored ?? ReportSummary(csv: csv), csv: csv, name: path)
            }
            let summary: ReportSummary
            if let stored {
                summary = stored
            } else {
                var builder = ReportSummary.Builder()
                while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty { chunk.withUnsafeBytes { builder.consume($0) } }
                summary = builder.finish()
                try? files.writeSummary(summary, of: job.id)  // once, not at every view
                try file.seek(toOffset: 0)
            }
            let head = Array(try file.read(upToCount: Self.previewHeadBytes) ?? Data())
            return try ReportFigures(summary: summary, head: head, name: path, limit: Self.previewRows)
        }
    }

    private func download(_ job: JobRecord, gzip: Bool, context: CoordinatorRequestContext) async throws -> Response {
        let file = try await jobs.localResultFile(of: job, gzipped: gzip)
        let body = try await FileIO().loadFile(path: file.path, context: context)
        let name = file.csvName + (gzip ? ".gz" : "")
        return Response(
            status: .ok,
            headers: [
                .contentType: gzip ? "application/gzip" : "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"\(name)\"",
            ], body: body)
    }

    // MARK: Rendering

    /// The viewer's zone: the browser's (its script sets a cookie), else UTC.
    private func viewerZone(_ request: Request) -> String {
        guard let name = request.cookies["tally_tz"]?.value.removingPercentEncoding, name.utf8.count <= 64,
            TimeZone(identifier: name) != nil
        else {
            return "UTC"
        }
        return name
    }

    private func local(_ micros: Int64, _ zone: String) -> String {
        ReportWindow.local(micros, timeZone: zone) ?? CivilTime.rfc3339(micros: micros)
    }

    private func render(
        _ template: String, title: String, data: [String: Any], identity: Identity, request: Request,
        signedIn: Bool = true, status: HTTPResponse.Status = .ok
    ) -> Response {
        WebPage.render(
            template, title: title, data: data, identity: identity, request: request, secure: secure, signedIn: signedIn, status: status)
    }
}
