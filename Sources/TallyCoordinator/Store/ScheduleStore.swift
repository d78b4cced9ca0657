import TallyProtocol

/// A schedule as stored: its request, when it runs next, and its last run.
struct StoredSchedule: Sendable, Equatable {
    var id: String
    var request: ScheduleRequest
    var nextRun: Double
    var lastRun: Double?
    var lastJob: String?
}

/// Durable schedules, so a coordinator that was down runs what it missed when it comes back.
protocol ScheduleStore: Sendable {
    /// Adds a schedule, or replaces the one with the same name (keeping its id and last run);
    /// returns it.
    func saveSchedule(_ request: ScheduleRequest, nextRun: Double) async throws -> StoredSchedule
    func schedules() async throws -> [StoredSchedule]
    /// Deletes a schedule; false when there is none with that id or name.
    func deleteSchedule(_ idOrName: String) async throws -> Bool
    /// Records a run: the job it made, and when the schedule runs next.
    func recordRun(_ id: String, ranAt: Double, job: String?, nextRun: Double) async throws
}
