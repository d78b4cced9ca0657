import Foundation
import TallyFormats
import TallyProtocol
import TallyReport
import TallyStore
import Testing

@testable import TallyCoordinator

/// A data directory written by the release before typed rows (schema v14, made by
/// `scripts/make-store-fixture`) opens with the current store, and what it held reads back.
@Suite struct StoreMigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/store-v14.sqlite")

    static func micros(_ text: String) -> Int64 {
        Array(text.utf8).withUnsafeBytes { EventTimestamp.parseRFC3339($0) }!
    }

    func openedCopy() throws -> (SQLiteStores, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-migration-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixture.path, toPath: dir + "/tally.sqlite")
        return (try SQLiteStores(path: dir + "/tally.sqlite"), dir)
    }

    @Test func jobsOfTheLastReleaseReadBackTyped() async throws {
        let (stores, dir) = try openedCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = stores.jobs
        let jobs = try await store.jobs(limit: 10, beforeSequence: nil, owner: nil)
        #expect(jobs.map(\.state) == [.cancelled, .succeeded, .succeeded])

        let active = try #require(jobs.first { $0.id == "o6mjwkeo1891rd42" })
        // 01:00 and 05:00 in Paris (CEST, UTC+2) on 2026-10-01.
        let window = try ReportWindow(from: Self.micros("2026-09-30T23:00:00Z"), to: Self.micros("2026-10-01T03:00:00Z"))
        #expect(
            active.definition
                == JobDefinition(
                    report: .activeUsers(window: window), source: "csv", timezone: "Europe/Paris", requestedFrom: "2026-10-01T01:00",
                    requestedTo: "2026-10-01T05:00", maxMalformedShare: 0.5, notifyTargets: ["ops"], notifyEmails: ["ops@example.com"]))
        #expect(active.owner == "ada" && (active.users ?? 0) > 0 && active.tasksTotal > 0)
        let tasks = try await store.tasks(of: active.id)
        #expect(tasks.count == active.tasksTotal && tasks.allSatisfy { $0.state == .done })
        #expect(tasks.allSatisfy { !$0.task.objects.isEmpty && $0.task.objects.allSatisfy { $0.name.hasSuffix(".gz") && $0.size > 0 } })
        #expect(Int64(tasks.reduce(0) { $0 + $1.task.objects.count }) == active.objectsTotal)

        let inactive = try #require(jobs.first { $0.id == "ngh4nx64sxm171wy" })
        let spec = try InactiveUsersSpec(now: Self.micros("2026-10-01T06:00:00Z"), inactiveDays: 1, lookbackDays: 2, directory: "staff")
        #expect(inactive.definition.report == .inactiveUsers(spec))
        #expect(inactive.definition.notifyTargets.isEmpty && inactive.definition.requestedFrom == nil)

        let cancelled = try #require(jobs.first { $0.id == "t3jr78x165dm9fld" })
        #expect(cancelled.definition.report.kind == .activeUsers && cancelled.definition.requestedTo == "2026-10-01T02:00:00Z")
        // Deliveries made before the upgrade are still there.
        #expect(try await stores.notifications.deliveries(of: active.id).map(\.target).sorted() == ["email:ops@example.com", "ops"])
    }

    @Test func tokensAndSchedulesOfTheLastReleaseReadBack() async throws {
        let (stores, dir) = try openedCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = stores.schedules
        let tokens = try await stores.tokens.tokens()
        #expect(
            Set(tokens.map { "\($0.role.rawValue):\($0.user)" }) == [
                "admin:ada", "reporter:rita", "monitor:mona", "worker:workers", "worker:trusted-workers",
            ])
        let schedules = try await store.schedules()
        #expect(
            schedules.map(\.request) == [
                ScheduleRequest(
                    name: "daily", report: "active-users", source: "csv", window: "previous-day", timezone: "Europe/Paris", every: "daily",
                    at: "06:00", notify: ["ops"]),
                ScheduleRequest(
                    name: "quarterly-inactive", report: "inactive-users", source: "csv", window: "previous-day", every: "monthly", day: 1,
                    at: "07:00", inactiveDays: 30, lookbackDays: 90, users: "staff"),
            ])
        // Saving the same request again keeps its next run; a changed one is stored in full.
        let daily = try #require(schedules.first)
        #expect(try await store.saveSchedule(daily.request, nextRun: 1).nextRun == daily.nextRun)
        var changed = daily.request
        changed.notify = nil
        changed.at = "07:30"
        let saved = try await store.saveSchedule(changed, nextRun: 2)
        #expect(saved.request == changed && saved.nextRun == 2 && saved.id == daily.id)
    }
}
