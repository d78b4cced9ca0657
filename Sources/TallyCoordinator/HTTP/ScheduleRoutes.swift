import Hummingbird
import TallyFormats
import TallyProtocol
import TallyReport
import TallyServices
import TallyStore

/// `/v1/schedules`: reports that run by themselves (admin only).
struct ScheduleRoutes: Sendable {
    let schedules: any ScheduleStore
    /// The job checks a schedule's jobs will meet, applied when it is saved too.
    let jobs: JobService
    var clock: any CoordinatorClock { jobs.clock }

    func add(to router: SecuredRouter) {
        let group = router.group("v1/schedules")
        group.post(.createSchedule) { request, _ in try await create(request) }
        group.get(.listSchedules) { _, _ in try JSONBody.make(ScheduleList(schedules: try await schedules.schedules().map(Self.info))) }
        group.delete(":id", .deleteSchedule) { _, context in
            let id = context.parameters.get("id") ?? ""
            guard try await schedules.deleteSchedule(id) else { throw APIError(.notFound, "no schedule '\(id)'", field: "id") }
            return Response(status: .noContent)
        }
    }

    private func create(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(ScheduleRequest.self, from: request)
        return try JSONBody.make(Self.info(try await save(body)), status: .created)
    }

    /// Checks a schedule and stores it (the API and the Schedules page alike); `400` names the field.
    func save(_ request: ScheduleRequest) async throws -> StoredSchedule {
        var body = request
        body.notify = body.notify.map { JobService.unique($0) }
        let rule: ScheduleRule
        do {
            rule = try ScheduleRule(body)
            // The job its next run would submit meets the job checks now, with their messages.
            let now = clock.now()
            _ = try jobs.checked(try rule.job(for: rule.nextRun(after: now)), submittedAt: now)
        } catch let error as JobRequestError {
            throw JobRoutes.apiError(error)
        } catch let error as ReportWindowError {
            throw APIError(.badRequest, error.reason, field: error.field)
        }
        return try await schedules.saveSchedule(body, nextRun: rule.nextRun(after: clock.now()))
    }

    static func info(_ s: StoredSchedule) -> ScheduleInfo {
        func time(_ seconds: Double) -> String { CivilTime.rfc3339(micros: Int64(seconds * 1_000_000)) }
        return ScheduleInfo(id: s.id, request: s.request, nextRun: time(s.nextRun), lastRun: s.lastRun.map(time), lastJob: s.lastJob)
    }
}
