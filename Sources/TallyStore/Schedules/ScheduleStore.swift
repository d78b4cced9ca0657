import TallyProtocol

/// A schedule as stored: its request, when it runs next, and its last run.
package struct StoredSchedule: Sendable, Equatable {
    package var id: String
    package var request: ScheduleRequest
    package var nextRun: Double
    package var lastRun: Double?
    package var lastJob: String?

    /// A value with every field given.
    package init(id: String, request: ScheduleRequest, nextRun: Double, lastRun: Double? = nil, lastJob: String? = nil) {
        self.id = id
        self.request = request
        self.nextRun = nextRun
        self.lastRun = lastRun
        self.lastJob = lastJob
    }
}

/// Durable schedules, so a coordinator that was down runs what it missed when it comes back.
package protocol ScheduleStore: Sendable {
    /// Adds a schedule, or replaces the one with the same name (keeping its id and last run);
    /// returns it.
    func saveSchedule(_ request: ScheduleRequest, nextRun: Double) async throws -> StoredSchedule
    func schedules() async throws -> [StoredSchedule]
    /// Deletes a schedule; false when there is none with that id or name.
    func deleteSchedule(_ idOrName: String) async throws -> Bool
    /// Records a run: the job it made, and when the schedule runs next.
    func recordRun(_ id: String, ranAt: Double, job: String?, nextRun: Double) async throws
}
