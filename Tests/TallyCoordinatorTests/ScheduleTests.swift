import Foundation
import Hummingbird
import HummingbirdTesting
import TallyFormats
import TallyProtocol
import TallyReport
import Testing

@testable import TallyCoordinator

/// Schedules fire by the injected clock, submit the window of their scheduled time, and a run
/// missed while the coordinator was down runs once when it comes back.
@Suite struct ScheduleTests {
    /// The fixture clock starts at 1_790_000_000 (2026-09-21T13:33:20Z).
    static let start = 1_790_000_000.0

    func jobs(_ client: any TestClientProtocol) async throws -> [JobStatus] {
        try await client.execute(uri: "/v1/jobs", method: .get).decode(JobList.self).jobs
    }

    @Test func aDailyScheduleFiresAndAMissedRunRunsOnceAfterARestart() async throws {
        let fixture = try Fixture()
        let body =
            #"{"name":"daily","report":"active-users","source":"local","window":"previous-day","timezone":"Europe/Paris","every":"daily","at":"06:00"}"#
        let first = try fixture.coordinator()
        try await withClient(first) { client in
            let created = try await client.execute(uri: "/v1/schedules", method: .post, headers: jsonHeaders, body: json(body))
            #expect(created.status == .created, "\(created.text)")
            let info = try created.decode(ScheduleInfo.self)
            // 06:00 in Paris (+02:00 in September) the next morning.
            #expect(info.nextRun == "2026-09-22T04:00:00Z")
            await first.scheduleRunner().runOnce()
            #expect(try await jobs(client).isEmpty)

            fixture.clock.advance(by: 86_400)  // 2026-09-22T13:33Z: the 06:00 run is due
            await first.scheduleRunner().runOnce()
            let submitted = try await jobs(client)
            #expect(submitted.count == 1)
            let job = try #require(submitted.first)
            #expect(job.from == "2026-09-21" && job.to == "2026-09-22" && job.timezone == "Europe/Paris")
            #expect(job.windowFrom == "2026-09-20T22:00:00Z" && job.windowTo == "2026-09-21T22:00:00Z")
            await first.scheduleRunner().runOnce()
            #expect(try await jobs(client).count == 1)  // not twice
            let listed = try await client.execute(uri: "/v1/schedules", method: .get).decode(ScheduleList.self).schedules
            #expect(listed.first?.lastJob == job.id && listed.first?.nextRun == "2026-09-23T04:00:00Z")
        }
        // Down for three days: the runs of the 23rd, 24th and 25th are missed.
        fixture.clock.advance(by: 3 * 86_400)
        let restarted = try fixture.coordinator()  // a restart over the same data directory
        try await withClient(restarted) { client in
            await restarted.scheduleRunner().runOnce()
            await restarted.scheduleRunner().runOnce()
            let after = try await jobs(client)
            #expect(after.count == 2)  // one more, not three
            // The latest missed run's window: the day before 2026-09-25.
            #expect(after.first?.from == "2026-09-24" && after.first?.to == "2026-09-25")
            let next = try await client.execute(uri: "/v1/schedules", method: .get).decode(ScheduleList.self).schedules.first?.nextRun
            #expect(next == "2026-09-26T04:00:00Z")
            #expect(try await client.execute(uri: "/v1/schedules/daily", method: .delete).status == .noContent)
            #expect(try await client.execute(uri: "/v1/schedules", method: .get).decode(ScheduleList.self).schedules.isEmpty)
        }
    }

    /// The other kinds fire as active-users does, a resource-access review with its directory;
    /// a network summary takes none.
    @Test func schedulesOfTheResourceReportsFireWithTheirKind() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.userDirectories["staff"] = fixture.logDirectory + "/users.csv"
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock)
        try await withClient(coordinator) { client in
            for (name, report, users) in [("net", "network-summary", ""), ("review", "resource-access", #","users":"staff""#)] {
                let body =
                    #"{"name":"\#(name)","report":"\#(report)","source":"local","window":"previous-day","timezone":"UTC","every":"daily","at":"06:00"\#(users)}"#
                let created = try await client.execute(uri: "/v1/schedules", method: .post, headers: jsonHeaders, body: json(body))
                #expect(created.status == .created, "\(created.text)")
            }
            let refused =
                #"{"name":"bad","report":"network-summary","source":"local","window":"previous-day","every":"daily","at":"06:00","users":"staff"}"#
            try expectError(
                try await client.execute(uri: "/v1/schedules", method: .post, headers: jsonHeaders, body: json(refused)), .badRequest,
                field: "users")
            fixture.clock.advance(by: 86_400)
            await coordinator.scheduleRunner().runOnce()
            let submitted = try await jobs(client).sorted { $0.report < $1.report }
            #expect(submitted.map(\.report) == ["network-summary", "resource-access"])
            #expect(submitted.map(\.userDirectory) == [nil, "staff"])
            #expect(submitted.allSatisfy { $0.to != nil && $0.from != nil }, "\(submitted)")
        }
    }

    @Test func windowsAndRunTimesFollowTheRule() throws {
        func rule(_ window: String, every: String, weekday: String? = nil, day: Int? = nil, zone: String = "UTC") throws -> ScheduleRule {
            try ScheduleRule(
                ScheduleRequest(
                    name: "r", report: "active-users", source: "s", window: window, timezone: zone, every: every,
                    weekday: weekday, day: day, at: "06:30"))
        }
        func seconds(_ text: String) -> Double { Double(Array(text.utf8).withUnsafeBytes { EventTimestamp.parseRFC3339($0)! }) / 1_000_000 }
        func time(_ s: Double) -> String { CivilTime.rfc3339(micros: Int64(s * 1_000_000)) }
        // Weekly on Monday: from Wednesday 2026-09-23 the next Monday 06:30.
        let weekly = try rule("previous-week", every: "weekly", weekday: "monday")
        #expect(time(weekly.nextRun(after: seconds("2026-09-23T12:00:00Z"))) == "2026-09-28T06:30:00Z")
        let week = try weekly.job(for: seconds("2026-09-28T06:30:00Z"))
        #expect(week.from == "2026-09-21" && week.to == "2026-09-28")
        // Monthly on the 1st, previous month; across a year end.
        let monthly = try rule("previous-month", every: "monthly", day: 1)
        #expect(time(monthly.nextRun(after: seconds("2026-12-15T00:00:00Z"))) == "2027-01-01T06:30:00Z")
        let month = try monthly.job(for: seconds("2027-01-01T06:30:00Z"))
        #expect(month.from == "2026-12-01" && month.to == "2027-01-01")
        // Last 7 days in New York, across the autumn change: 06:30 local on both sides.
        let ny = try rule("last-7-days", every: "daily", zone: "America/New_York")
        #expect(time(ny.nextRun(after: seconds("2026-10-31T12:00:00Z"))) == "2026-11-01T11:30:00Z")
        #expect(time(ny.nextRun(after: seconds("2026-11-01T11:30:00Z"))) == "2026-11-02T11:30:00Z")
        #expect(try ny.job(for: seconds("2026-11-02T11:30:00Z")).from == "2026-10-26")
        for (window, every, field) in [
            ("yesterday", "daily", "window"), ("last-0-days", "daily", "window"), ("previous-day", "hourly", "every"),
            ("previous-day", "weekly", "weekday"), ("previous-day", "monthly", "day"),
        ] {
            #expect(throws: ReportWindowError.self, "\(field)") { try rule(window, every: every) }
        }
    }
}
