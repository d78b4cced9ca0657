import TallyReport

/// What a job was asked to make, checked and typed (`JobService`): the report with everything
/// its kind needs, where the logs come from, and who is told when it ends. Stored in columns of
/// its own (docs/design.md §3.7), never as the request's JSON.
package struct JobDefinition: Sendable, Equatable {
    package var report: ReportSpec
    /// A source configured on the coordinator.
    package var source: String
    /// The IANA zone the request's local times were given in.
    package var timezone: String?
    /// The window's bounds as the user wrote them (an active-users job), shown back in its status.
    package var requestedFrom: String?
    package var requestedTo: String?
    /// The largest share of malformed lines the job accepts.
    package var maxMalformedShare: Double?
    /// Notification targets and e-mail addresses told when the job ends, without repeats.
    package var notifyTargets: [String] = []
    package var notifyEmails: [String] = []

    /// A value with every field given.
    package init(
        report: ReportSpec, source: String, timezone: String? = nil, requestedFrom: String? = nil, requestedTo: String? = nil,
        maxMalformedShare: Double? = nil, notifyTargets: [String] = [], notifyEmails: [String] = []
    ) {
        self.report = report
        self.source = source
        self.timezone = timezone
        self.requestedFrom = requestedFrom
        self.requestedTo = requestedTo
        self.maxMalformedShare = maxMalformedShare
        self.notifyTargets = notifyTargets
        self.notifyEmails = notifyEmails
    }
}
