import TallyProtocol

/// Every API operation by name — the names the activity log and docs/security.md use — and the
/// roles allowed to perform it. Each route is registered with its operation (`SecuredRouter`),
/// which fills the `RoleTable` the coordinator enforces.
package enum Operation: String, Sendable, CaseIterable {
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
    case readPartialSlice = "read_partial_slice"
    case readUserDirectory = "read_user_directory"
    case uploadRows = "upload_rows"
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
    package var allowedRoles: Set<Role> {
        switch self {
        case .createJob, .listJobs, .getJob, .getResult, .cancelJob, .notifyJob: [.admin, .reporter]
        case .leaseTask, .heartbeat, .uploadPartial, .reportFailure, .readPartialSlice, .readUserDirectory, .uploadRows: [.worker]
        case .createToken, .listTokens, .revokeToken, .createSchedule, .listSchedules, .deleteSchedule, .getActivity, .getActivitySetting,
            .setActivity:
            [.admin]
        case .getMetrics: [.admin, .monitor]
        case .viewReports, .viewReport, .newReport, .generateReport, .cancelReport, .downloadReport, .signOut: [.admin, .reporter]
        }
    }

    /// Whether a route is a web page: reached with a session cookie, answered with HTML, and
    /// sending a browser without a session to the sign-in page. The pages share the API's
    /// operations where they do the same thing (a token made on the Tokens page is `create_token`).
    package static func isPage(route: String) -> Bool {
        !route.hasPrefix("/v1/") && route != "/metrics"
    }

    /// What the route's one path parameter names, the key of the activity log's `resources`.
    package var resource: String? {
        switch self {
        case .getJob, .getResult, .cancelJob, .notifyJob, .viewReport, .cancelReport, .downloadReport: "job"
        case .heartbeat, .uploadPartial, .reportFailure, .readPartialSlice, .readUserDirectory, .uploadRows: "lease"
        case .revokeToken: "token"
        case .deleteSchedule: "schedule"
        case .getActivitySetting, .setActivity: "user"
        case .createJob, .listJobs, .leaseTask, .createToken, .listTokens, .createSchedule, .listSchedules, .getActivity, .getMetrics,
            .viewReports, .newReport, .generateReport, .signOut:
            nil
        }
    }
}
