import Foundation
import Hummingbird
import TallyAccess
import TallyFormats
import TallyProtocol
import TallyReport
import TallyStore

/// The admin pages: tokens, who the activity log records and its rows, schedules. Each does
/// what its API route does, through the same code (`TokenService`, `ActivityService`,
/// `ScheduleService`), and is held to the same operation in the role table.
struct AdminPages: Sendable {
    let issuer: TokenService
    let activity: ActivityService
    let schedules: ScheduleService
    let configuration: CoordinatorConfiguration

    /// Activity rows per page.
    static let activityPageSize = 200

    private var secure: Bool { configuration.tls != nil }

    func add(to router: SecuredRouter) {
        router.get("admin/tokens", .listTokens) { request, context in try await tokensPage(request, context.identity) }
        router.post("admin/tokens", .createToken) { request, context in
            let form = try await WebForm.checked(request, identity: context.identity)
            let role = Role(rawValue: form.value("role") ?? "")
            let days = form.value("expires_days").flatMap { $0.isEmpty ? nil : Double($0) }
            do {
                guard let role else { throw TokenError.invalid("unknown role", field: "role") }
                let (_, secret) = try await issuer.issue(TokenRequest(user: form.value("user") ?? "", role: role, expiresDays: days))
                return try await tokensPage(request, context.identity, newSecret: secret)
            } catch let error as TokenError {
                return try await tokensPage(request, context.identity, error: error.description, status: .badRequest)
            }
        }
        router.post("admin/tokens/:id/revoke", .revokeToken) { request, context in
            _ = try await WebForm.checked(request, identity: context.identity)
            guard try await issuer.revoke(context.parameters.get("id") ?? "") else { throw APIError(.notFound, "no such token") }
            return WebPage.redirect(to: "/admin/tokens")
        }
        router.get("admin/activity", .getActivity) { request, context in try await activityPage(request, context.identity) }
        router.post("admin/activity/settings", .setActivity) { request, context in
            let form = try await WebForm.checked(request, identity: context.identity)
            let user = form.value("user") ?? ""
            let logs = (form.value("logs") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            let setting = form.value("enabled") == "off" ? ActivitySetting.off : ActivitySetting(enabled: true, logs: logs)
            do {
                try await activity.set(setting, for: user)
            } catch let error as ActivityError {
                return try await activityPage(request, context.identity, settingError: error.reason, status: .badRequest)
            }
            return try await activityPage(request, context.identity, shown: user)
        }
        router.get("admin/schedules", .listSchedules) { request, context in try await schedulesPage(request, context.identity) }
        router.post("admin/schedules", .createSchedule) { request, context in
            let form = try await WebForm.checked(request, identity: context.identity)
            func text(_ name: String) -> String? { form.value(name).flatMap { $0.isEmpty ? nil : $0 } }
            let body = ScheduleRequest(
                name: text("name") ?? "", report: text("report") ?? ReportKind.activeUsers.rawValue, source: text("source") ?? "",
                window: text("window") ?? "", timezone: text("timezone"), every: text("every") ?? "",
                weekday: text("weekday"), day: text("day").flatMap { Int($0) }, at: text("at") ?? "", notify: nil,
                inactiveDays: nil, lookbackDays: nil, users: nil)
            do {
                _ = try await schedules.save(body)
            } catch let error as JobError where error.kind == .invalid {
                return try await schedulesPage(
                    request, context.identity, error: (error.field.map { "\($0): " } ?? "") + error.reason, status: .badRequest)
            }
            return WebPage.redirect(to: "/admin/schedules")
        }
        router.post("admin/schedules/:id/delete", .deleteSchedule) { request, context in
            _ = try await WebForm.checked(request, identity: context.identity)
            try await APIError.mapping { try await schedules.delete(context.parameters.get("id") ?? "") }
            return WebPage.redirect(to: "/admin/schedules")
        }
    }

    private static func time(_ seconds: Double?) -> String {
        seconds.map { CivilTime.rfc3339(micros: Int64($0 * 1_000_000)) } ?? ""
    }

    private func tokensPage(
        _ request: Request, _ identity: Identity, newSecret: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let list = try await issuer.list().map { token -> [String: Any] in
            [
                "id": token.id, "user": token.user, "role": token.role.rawValue, "fingerprint": token.fingerprint,
                "created": Self.time(token.createdAt),
                "expires": Self.time(token.expiresAt), "revoked": Self.time(token.revokedAt), "isRevoked": token.revokedAt != nil,
            ]
        }
        return WebPage.render(
            "tokens", title: "Tokens",
            data: [
                "list": list, "roles": Role.allCases.map(\.rawValue), "newSecret": newSecret as Any, "formError": error as Any,
            ], identity: identity, request: request, secure: secure, status: status)
    }

    private func activityPage(
        _ request: Request, _ identity: Identity, settingError: String? = nil, shown: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let query = request.uri.queryParameters
        func text(_ name: String) -> String? { query[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        var data: [String: Any] = [
            "log": text("log") ?? "default", "user": text("user") ?? "", "operation": text("operation") ?? "", "from": text("from") ?? "",
            "to": text("to") ?? "", "settingError": settingError as Any, "settingUser": shown ?? "",
        ]
        if let shown {
            let setting = try await activity.setting(of: shown).setting
            data["shownSetting"] = "\(shown): " + (setting.enabled ? "logged to " + setting.logs.joined(separator: ", ") : "not logged")
        }
        var exportQuery = URLComponents()
        exportQuery.queryItems = ["log", "user", "operation", "from", "to"].compactMap { name in
            text(name).map { URLQueryItem(name: name, value: $0) }
        }
        data["exportLink"] = "/v1/activity" + (exportQuery.percentEncodedQuery.map { "?" + $0 } ?? "")
        do {
            let export = try ActivityExport(
                log: text("log"), user: text("user"), from: text("from"), to: text("to"), operation: text("operation"),
                format: .csv)
            let after = text("after").flatMap { Int64($0) } ?? 0
            let page = try await activity.store.records(export.query, after: after, limit: Self.activityPageSize)
            data["rows"] = page.map { _, record -> [String: String] in
                [
                    "time": CivilTime.rfc3339(micros: record.timestamp), "user": record.user, "operation": record.operation,
                    "auth": record.authType, "status": "\(record.status)", "resources": record.resources,
                ]
            }
            if page.count == Self.activityPageSize, let last = page.last {
                var next = exportQuery
                next.queryItems = (next.queryItems ?? []) + [URLQueryItem(name: "after", value: "\(last.position)")]
                data["next"] = "/admin/activity?" + (next.percentEncodedQuery ?? "")
            }
        } catch let error as ActivityError {
            data["filterError"] = "\(error.field): \(error.reason)"
        }
        return WebPage.render(
            "activity", title: "Activity", data: data, identity: identity, request: request, secure: secure, status: status)
    }

    private func schedulesPage(_ request: Request, _ identity: Identity, error: String? = nil, status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let list = try await schedules.list().map { s -> [String: Any] in
            let r = s.request
            let runs = r.every + (r.weekday.map { " on \($0)" } ?? "") + (r.day.map { " on day \($0)" } ?? "") + " at \(r.at)"
            return [
                "id": s.id, "name": r.name, "report": r.report, "source": r.source, "window": r.window, "zone": r.timezone ?? "UTC",
                "runs": runs, "nextRun": Self.time(s.nextRun), "lastJob": s.lastJob as Any,
            ]
        }
        return WebPage.render(
            "schedules", title: "Schedules",
            data: [
                "list": list, "formError": error as Any, "sources": configuration.sources.keys.sorted(),
                "zones": WebPage.zones,
            ], identity: identity, request: request, secure: secure, status: status)
    }
}
