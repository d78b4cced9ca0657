import Foundation
import TallyFormats
import Testing

@testable import TallyReport

@Suite struct ReportPlanTests {
    @Test func objectNamesGiveTimeRanges() {
        #expect(ObjectTimeRange(objectName: "2026/10/01/08.csv.gz") == .init(start: micros(2026, 10, 1, 8), end: micros(2026, 10, 1, 9)))
        #expect(
            ObjectTimeRange(objectName: "logs/2025-07-25T18:20:00+00:00.json")
                == .init(start: micros(2025, 7, 25, 18, 20), end: micros(2025, 7, 25, 18, 20)))
        #expect(
            ObjectTimeRange(objectName: "connector-2026-10-01T08.log") == .init(start: micros(2026, 10, 1, 8), end: micros(2026, 10, 1, 9)))
        #expect(ObjectTimeRange(objectName: "export-2026-10-01.csv") == .init(start: micros(2026, 10, 1, 0), end: micros(2026, 10, 2, 0)))
        #expect(ObjectTimeRange(objectName: "2026/10/01/x.csv") == .init(start: micros(2026, 10, 1, 0), end: micros(2026, 10, 2, 0)))
        #expect(ObjectTimeRange(objectName: "events.csv") == nil)
        #expect(ObjectTimeRange(objectName: "2026-13-01.csv") == nil)
    }

    @Test func everySelectedObjectIsInExactlyOneTaskAndFarObjectsAreLeftOut() throws {
        var objects: [LogObject] = []
        for h in 0..<48 {
            objects.append(LogObject(name: String(format: "2026/10/%02d/%02d.csv.gz", 1 + h / 24, h % 24), size: Int64(1000 + h * 37)))
        }
        objects.append(LogObject(name: "undated.csv", size: 10))
        let window = try ReportWindow(from: micros(2026, 10, 1, 6), to: micros(2026, 10, 1, 18))
        let plan = ReportPlan(objects: objects, window: window, targetTaskBytes: 2500)
        let names = plan.tasks.flatMap { $0.objects.map(\.name) }
        #expect(Set(names).count == names.count)
        // Hours 05..18 (one hour of slack each side) plus the undated object.
        #expect(names.count == 15)
        #expect(names.contains("2026/10/01/05.csv.gz") && names.contains("2026/10/01/18.csv.gz"))
        #expect(!names.contains("2026/10/01/04.csv.gz") && !names.contains("2026/10/01/19.csv.gz"))
        #expect(plan.tasks.map(\.index) == Array(plan.tasks.indices))
        #expect(plan.tasks.allSatisfy { $0.bytes <= 2500 || $0.objects.count == 1 })
        #expect(plan.tasks.last?.shard == nil)
    }

    @Test func smallHoursAreJoinedAndTheSameListingGivesTheSamePlan() throws {
        let objects = (0..<24).map { LogObject(name: String(format: "2026/10/01/%02d.csv", $0), size: 100) }
        let window = try ReportWindow(from: micros(2026, 10, 1, 0), to: micros(2026, 10, 2, 0))
        let plan = ReportPlan(objects: objects, window: window, targetTaskBytes: 400)
        #expect(plan.tasks.count == 6)
        #expect(plan.tasks[0].shard == TimeShard(start: micros(2026, 10, 1, 0), end: micros(2026, 10, 1, 4)))
        let again = ReportPlan(objects: objects.reversed(), window: window, targetTaskBytes: 400)
        #expect(again.tasks == plan.tasks)
    }

    @Test func overlappingWindowsCutTheDaysBothCoverIntoTheSameTasks() throws {
        // Four days of hourly objects of uneven sizes; windows an hour apart, cut mid-hour.
        var objects: [LogObject] = []
        for h in 0..<(4 * 24) {
            objects.append(
                LogObject(name: String(format: "2026/10/%02d/%02d.csv", 1 + h / 24, h % 24), size: Int64(300_000 + (h * 7919) % 200_000)))
        }
        let first = ReportPlan(
            objects: objects, window: try ReportWindow(from: micros(2026, 10, 1, 12, 30), to: micros(2026, 10, 4, 12, 30)))
        let later = ReportPlan(
            objects: objects, window: try ReportWindow(from: micros(2026, 10, 1, 13, 30), to: micros(2026, 10, 4, 13, 30)))
        for plan in [first, later] {
            for task in plan.tasks {
                let shard = try #require(task.shard)
                #expect((shard.start / 86_400_000_000) == ((shard.end - 1) / 86_400_000_000), "task \(task.index) spans two days")
            }
        }
        // The days both windows cover whole (October 2 and 3) are the same tasks in both plans.
        func interior(_ plan: ReportPlan) -> [[LogObject]] {
            plan.tasks.filter { $0.shard!.start >= micros(2026, 10, 2, 0) && $0.shard!.end <= micros(2026, 10, 4, 0) }.map(\.objects)
        }
        #expect(!interior(first).isEmpty)
        #expect(interior(first) == interior(later))
        #expect(interior(first).flatMap { $0 }.count == 48)
        // The target is a power of two, the same for both windows.
        #expect(ReportPlan.defaultTarget(bytes: first.bytes) == ReportPlan.defaultTarget(bytes: later.bytes))
        #expect(ReportPlan.defaultTarget(bytes: 48 * 1_000_000) == 1 << 19)
        #expect(ReportPlan.defaultTarget(bytes: 10) == 256 << 10)
    }

    @Test func windowsFromUserText() throws {
        let utc = try ReportWindow(from: "2026-10-01T00:00:00Z", to: "2026-10-02T00:00:00+02:00", timeZone: nil)
        #expect(utc.from == micros(2026, 10, 1, 0) && utc.to == micros(2026, 10, 1, 22))
        let paris = try ReportWindow(from: "2026-10-01", to: "2026-10-01T08:30", timeZone: "Europe/Paris")
        #expect(paris.from == micros(2026, 9, 30, 22) && paris.to == micros(2026, 10, 1, 6, 30))
        // Winter time: Paris is UTC+1 in December.
        let winter = try ReportWindow(from: "2026-12-01", to: "2026-12-02", timeZone: "Europe/Paris")
        #expect(winter.from == micros(2026, 11, 30, 23))
        #expect(throws: ReportWindowError.self) {
            try ReportWindow(from: "2026-10-02T00:00:00Z", to: "2026-10-01T00:00:00Z", timeZone: nil)
        }
        #expect(throws: ReportWindowError.self) { try ReportWindow(from: "2026-10-01", to: "2026-10-02", timeZone: nil) }
        #expect(throws: ReportWindowError.self) { try ReportWindow(from: "2026-10-01", to: "2026-10-02", timeZone: "Mars/Olympus") }
        #expect(throws: ReportWindowError.self) {
            try ReportWindow(from: "2024-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", timeZone: nil)
        }
        // Signs are not digits: `+1` is no month.
        #expect(throws: ReportWindowError.self) { try ReportWindow(from: "2026-+1-01", to: "2026-10-02", timeZone: "UTC") }
        #expect(throws: ReportWindowError.self) { try ReportWindow(from: "2026-10-01T+8:00", to: "2026-10-02", timeZone: "UTC") }
    }
}

func micros(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int = 0) -> Int64 {
    CivilTime.days(year: Int64(y), month: Int64(mo), day: Int64(d)) * 86_400_000_000 + Int64(h * 3600 + mi * 60) * 1_000_000
}
