import Foundation
import TallyFormats
import TallyReport
import TallyServices
import Testing

@testable import TallyCoordinator

/// The head start: partials folded as they are committed, in plan order whatever the order of
/// arrival, give the report a merge from scratch gives.
@Suite struct JobFoldsTests {
    let window: ReportWindow

    init() throws {
        window = try ReportWindow(from: windowFrom, to: windowTo, timeZone: nil)
    }

    /// One task's partial from CSV rows (through the real reader and aggregator).
    func partial(_ rows: [String]) throws -> Partial {
        var aggregator = RowAggregator(window: window)
        let reader = LogObjectReader(objectName: "t.csv", format: .twingateCSV)
        let text = Array(([csvHeader] + rows).joined(separator: "\n").utf8) + [0x0A]
        try text.withUnsafeBytes { try reader.consume($0, into: &aggregator) }
        try reader.finish(into: &aggregator)
        return aggregator.makePartial(statistics: ReadStatistics())
    }

    /// Five tasks with overlapping and distinct users.
    func partials() throws -> [Partial] {
        try (0..<5).map { task in
            var rows: [String] = []
            for n in 0..<(40 + 30 * task) {
                let user = n % 7 == 0 ? "task\(task)@x" : "u\(n % 13)@x"
                rows.append(
                    "2026-10-01 0\(task):00:\(String(format: "%02d", n % 60)) UTC,\(user),NORMAL,\(n),1,10.\(task).\(n / 256 % 256).\(n % 256),d\(n % 3),"
                )
            }
            return try partial(rows)
        }
    }

    @Test func partialsFoldedOnArrivalGiveTheReportOfAMergeFromScratch() throws {
        let partials = try partials()
        var reference = ReportMerger()
        for p in partials { reference.merge(p) }

        let root = NSTemporaryDirectory() + "tally-merges-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = try DataDirectory(root: root)
        let merges = JobFolds(files: files)
        // Arrival order 3, 0, 4, 1, 2: each partial is on disk before `advance`, as after a
        // commit. Only a run without gaps from task 0 is folded; early ones wait their turn.
        for (index, next) in [(3, 0), (0, 1), (4, 1), (1, 2), (2, 5)] {
            try files.write(partials[index].encoded(), to: files.partialPath("job", index))
            merges.advance("job", committed: (index, partials[index]))
            #expect(merges.nextPartial("job") == next)
        }
        #expect(merges.jobCount == 1)
        let merged = try merges.finish("job", partials: (0..<partials.count).map { files.partialPath("job", $0) })
        #expect(merged.csv() == reference.csv())
        #expect(merged.partialsMerged == partials.count)
        #expect(merges.nextPartial("job") == nil)
        // A fold that comes after the final merge began does not start the job over.
        merges.advance("job", committed: (4, partials[4]))
        #expect(merges.nextPartial("job") == nil)
        merges.keep(only: [])
        #expect(merges.jobCount == 0)

        // A coordinator that restarted has no head start: it reads everything from disk.
        #expect(
            try JobFolds(files: files).finish("job", partials: (0..<partials.count).map { files.partialPath("job", $0) }).csv()
                == reference.csv())
    }

    @Test func aMissingPartialFailsTheFinalMergeAndNamesIt() throws {
        let partials = try partials()
        let root = NSTemporaryDirectory() + "tally-merges-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = try DataDirectory(root: root)
        let merges = JobFolds(files: files)
        for index in [0, 2] {
            try files.write(partials[index].encoded(), to: files.partialPath("job", index))
            merges.advance("job", committed: (index, partials[index]))
        }
        #expect(throws: UnusablePartial.self) { _ = try merges.finish("job", partials: (0..<3).map { files.partialPath("job", $0) }) }
        do {
            _ = try merges.finish("job", partials: (0..<3).map { files.partialPath("job", $0) })
        } catch {
            #expect("\(error)".contains("task 1"))
        }
    }

    @Test func headStartsOfEndedJobsAreDropped() throws {
        let root = NSTemporaryDirectory() + "tally-merges-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let merges = JobFolds(files: try DataDirectory(root: root))
        merges.advance("a")
        merges.advance("b")
        #expect(merges.jobCount == 2)
        merges.keep(only: ["b"])
        #expect(merges.jobCount == 1)
        merges.forget("b")
        #expect(merges.jobCount == 0)
    }
}

/// A service's wake-up: a signal ends a wait long before its timeout, which runs on the
/// injected clock.
@Suite struct WakeupTests {
    @Test(.timeLimit(.minutes(1))) func aSignalEndsTheWaitAndSignalsDoNotQueueUp() async throws {
        let wakeup = Wakeup()
        let clock = ManualClock()
        // A signal given before the wait ends it at once.
        wakeup.signal()
        wakeup.signal()
        await wakeup.wait(seconds: 3600, on: clock)
        // A signal during the wait ends it.
        async let waited: Void = wakeup.wait(seconds: 3600, on: clock)
        try await eventually { clock.sleeperCount == 1 }
        wakeup.signal()
        await waited
        #expect(clock.sleeperCount == 0, "the timeout's sleep was cancelled")
        // The two early signals counted once: this wait runs to its timeout, which passes when
        // the clock is moved past it, not before.
        async let timedOut: Void = wakeup.wait(seconds: 60, on: clock)
        try await eventually { clock.sleeperCount == 1 }
        clock.advance(by: 59)
        #expect(clock.sleeperCount == 1)
        clock.advance(by: 1)
        await timedOut
    }
}
