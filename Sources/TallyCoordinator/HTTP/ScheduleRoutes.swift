import Hummingbird
import TallyFormats
import TallyProtocol
import TallyReport
import TallyServices
import TallyStore

/// `/v1/schedules`: reports that run by themselves (admin only).
struct ScheduleRoutes: Sendable {
    let service: ScheduleService

    func add(to router: SecuredRouter) {
        let group = router.group("v1/schedules")
        group.post(.createSchedule) { request, _ in
            let body = try await JSONBody.decode(ScheduleRequest.self, from: request)
            return try JSONBody.make(Self.info(try await APIError.mapping { try await service.save(body) }), status: .created)
        }
        group.get(.listSchedules) { _, _ in try JSONBody.make(ScheduleList(schedules: try await service.list().map(Self.info))) }
        group.delete(":id", .deleteSchedule) { _, context in
            try await APIError.mapping { try await service.delete(context.parameters.get("id") ?? "") }
            return Response(status: .noContent)
        }
    }

    static func info(_ s: StoredSchedule) -> ScheduleInfo {
        func time(_ seconds: Double) -> String { CivilTime.rfc3339(micros: Int64(seconds * 1_000_000)) }
        return ScheduleInfo(id: s.id, request: s.request, nextRun: time(s.nextRun), lastRun: s.lastRun.map(time), lastJob: s.lastJob)
    }
}
