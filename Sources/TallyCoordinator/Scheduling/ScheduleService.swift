import TallyProtocol
import TallyReport
import TallyServices
import TallyStore

/// Schedules as every door uses them (the API, the Schedules page, `tally.yaml`): a schedule is
/// checked when saved with the job checks its runs will meet, and the same messages.
struct ScheduleService: Sendable {
    let schedules: any ScheduleStore
    /// The job checks a schedule's jobs will meet, applied when it is saved too.
    let jobs: JobService
    var clock: any CoordinatorClock { jobs.clock }

    /// Checks a schedule and stores it (one with the same name is replaced); a problem is a
    /// `JobError` naming the field.
    func save(_ request: ScheduleRequest) async throws -> StoredSchedule {
        var body = request
        body.notify = body.notify.map { JobService.unique($0) }
        let rule: ScheduleRule
        do {
            rule = try ScheduleRule(body)
            // The job its next run would submit meets the job checks now, with their messages.
            let now = clock.now()
            _ = try jobs.checked(try rule.job(for: rule.nextRun(after: now)), submittedAt: now)
        } catch let error as ReportWindowError {
            throw JobError.invalid(error.reason, field: error.field)
        }
        return try await schedules.saveSchedule(body, nextRun: rule.nextRun(after: clock.now()))
    }

    /// Every schedule, by name.
    func list() async throws -> [StoredSchedule] {
        try await schedules.schedules()
    }

    /// Deletes a schedule by id or name.
    func delete(_ idOrName: String) async throws {
        guard try await schedules.deleteSchedule(idOrName) else {
            throw JobError(kind: .notFound, reason: "no schedule '\(idOrName)'", field: "id")
        }
    }
}
