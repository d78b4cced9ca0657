import TallyReport

/// What a job was asked to make, checked and typed (`JobService`): the report with everything
/// its kind needs, where the logs come from, and who is told when it ends. Stored in columns of
/// its own (docs/design.md §3.7), never as the request's JSON.
struct JobDefinition: Sendable, Equatable {
    var report: ReportSpec
    /// A source configured on the coordinator.
    var source: String
    /// The IANA zone the request's local times were given in.
    var timezone: String?
    /// The window's bounds as the user wrote them (an active-users job), shown back in its status.
    var requestedFrom: String?
    var requestedTo: String?
    /// The largest share of malformed lines the job accepts.
    var maxMalformedShare: Double?
    /// Notification targets and e-mail addresses told when the job ends, without repeats.
    var notifyTargets: [String] = []
    var notifyEmails: [String] = []
}
