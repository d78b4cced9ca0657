import TallyProtocol

import Hummingbird

/// Every API operation by name — the names the activity log and docs/security.md use — and the
/// roles allowed to perform it: the one role table the coordinator enforces.
enum Operation: String, Sendable, CaseIterable {
    case createJob = "create_job"
    case listJobs = "list_jobs"
    case getJob = "get_job"
    case getResult = "get_result"
    case cancelJob = "cancel_job"
    case notifyJob = "notify_job"
    case leaseTask = "lease_task"
    case heartbeat
    case uploadPartial = "upload_partial"
    case reportFailure = "report_failure"
    case createToken = "create_token"
    case listTokens = "list_tokens"
    case revokeToken = "revoke_token"
    case createSchedule = "create_schedule"
    case listSchedules = "list_schedules"
    case deleteSchedule = "delete_schedule"
    case getActivity = "get_activity"
    case getActivitySetting = "get_activity_setting"
    case setActivity = "set_activity"
    case getMetrics = "get_metrics"
    // The web pages (docs/security.md): the same table, the same log.
    case viewReports = "view_reports"
    case viewReport = "view_report"
    case newReport = "new_report"
    case generateReport = "generate_report"
    case cancelReport = "cancel_report"
    case downloadReport = "download_report"
    case signOut = "sign_out"

    /// The roles that may perform it. Reporters are further held to their own jobs.
    var allowedRoles: Set<Role> {
        switch self {
        case .createJob, .listJobs, .getJob, .getResult, .cancelJob, .notifyJob: [.admin, .reporter]
        case .leaseTask, .heartbeat, .uploadPartial, .reportFailure: [.worker]
        case .createToken, .listTokens, .revokeToken, .createSchedule, .listSchedules, .deleteSchedule, .getActivity, .getActivitySetting, .setActivity: [.admin]
        case .getMetrics: [.admin, .monitor]
        case .viewReports, .viewReport, .newReport, .generateReport, .cancelReport, .downloadReport, .signOut: [.admin, .reporter]
        }
    }

    /// Whether a route is a web page: reached with a session cookie, answered with HTML, and
    /// sending a browser without a session to the sign-in page. The pages share the API's
    /// operations where they do the same thing (a token made on the Tokens page is `create_token`).
    static func isPage(route: String) -> Bool {
        !route.hasPrefix("/v1/") && route != "/metrics"
    }

    /// The operation a matched route performs, by method and route pattern (as the router
    /// reports it, e.g. `/v1/jobs/{id}`); nil for a route that needs no token (`/healthz`).
    static func of(method: HTTPRequest.Method, route: String) -> Operation? {
        switch (method, route) {
        case (.post, "/v1/jobs"): .createJob
        case (.get, "/v1/jobs"): .listJobs
        case (.get, "/v1/jobs/{id}"): .getJob
        case (.get, "/v1/jobs/{id}/result"): .getResult
        case (.delete, "/v1/jobs/{id}"): .cancelJob
        case (.post, "/v1/jobs/{id}/notify"): .notifyJob
        case (.post, "/v1/worker/lease"): .leaseTask
        case (.post, "/v1/worker/leases/{lease}/heartbeat"): .heartbeat
        case (.put, "/v1/worker/leases/{lease}/partial"): .uploadPartial
        case (.post, "/v1/worker/leases/{lease}/failure"): .reportFailure
        case (.post, "/v1/tokens"): .createToken
        case (.get, "/v1/tokens"): .listTokens
        case (.delete, "/v1/tokens/{id}"): .revokeToken
        case (.post, "/v1/schedules"): .createSchedule
        case (.get, "/v1/schedules"): .listSchedules
        case (.delete, "/v1/schedules/{id}"): .deleteSchedule
        case (.get, "/v1/activity"): .getActivity
        case (.get, "/v1/users/{user}/activity"): .getActivitySetting
        case (.put, "/v1/users/{user}/activity"): .setActivity
        case (.get, "/metrics"): .getMetrics
        case (.get, "/"): .viewReports
        case (.get, "/reports/new"): .newReport
        case (.get, "/reports/{id}"): .viewReport
        case (.post, "/reports"): .generateReport
        case (.post, "/reports/{id}/cancel"): .cancelReport
        case (.get, "/reports/{id}/download"): .downloadReport
        case (.post, "/sign-out"): .signOut
        case (.get, "/admin/tokens"): .listTokens
        case (.post, "/admin/tokens"): .createToken
        case (.post, "/admin/tokens/{id}/revoke"): .revokeToken
        case (.get, "/admin/activity"): .getActivity
        case (.post, "/admin/activity/settings"): .setActivity
        case (.get, "/admin/schedules"): .listSchedules
        case (.post, "/admin/schedules"): .createSchedule
        case (.post, "/admin/schedules/{id}/delete"): .deleteSchedule
        default: nil
        }
    }

    /// What the route's one path parameter names, the key of the activity log's `resources`.
    var resource: String? {
        switch self {
        case .getJob, .getResult, .cancelJob, .notifyJob, .viewReport, .cancelReport, .downloadReport: "job"
        case .heartbeat, .uploadPartial, .reportFailure: "lease"
        case .revokeToken: "token"
        case .deleteSchedule: "schedule"
        case .getActivitySetting, .setActivity: "user"
        case .createJob, .listJobs, .leaseTask, .createToken, .listTokens, .createSchedule, .listSchedules, .getActivity, .getMetrics,
             .viewReports, .newReport, .generateReport, .signOut: nil
        }
    }
}
