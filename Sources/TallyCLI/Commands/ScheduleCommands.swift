import ArgumentParser
import TallyClient
import TallyProtocol
import TallyReport

/// `tally schedule create|list|delete`: reports that run by themselves.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Create, list and delete scheduled reports.", subcommands: [Create.self, List.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (or replace, by name) a schedule; prints its next run.")

        @OptionGroup var options: CoordinatorOptions
        @Option(help: "Its name.") var name: String
        @Option(help: "active-users, inactive-users, network-summary or resource-access.") var report: ReportKind = .activeUsers
        @Option(help: "A source configured on the coordinator.") var source: String
        @Option(help: "previous-day, previous-week, previous-month or last-N-days.") var window: String
        @Option(name: .customLong("tz"), help: "IANA zone of the window and the run time (default UTC).") var timeZone: String?
        @Option(help: "daily, weekly or monthly.") var every: String
        @Option(help: "weekly: the weekday (monday … sunday).") var weekday: String?
        @Option(help: "monthly: the day (1 to 28).") var day: Int?
        @Option(help: "The local time of the run, HH:MM.") var at: String
        @Option(help: "Comma-separated notification targets.") var notify: String?
        @Option(help: "inactive-users: a configured user directory.") var users: String?
        @Option(help: "inactive-users: inactive days.") var inactiveDays: Int?
        @Option(help: "inactive-users: look-back days.") var lookbackDays: Int?

        func run() async throws {
            let request = ScheduleRequest(
                name: name, report: report.rawValue, source: source, window: window, timezone: timeZone, every: every,
                weekday: weekday, day: day, at: at,
                notify: notify.map { $0.split(separator: ",").map(String.init) },
                inactiveDays: inactiveDays, lookbackDays: lookbackDays, users: users)
            let info = try await options.withConnection { try await ScheduleAPIClient($0).create(request) }
            print("\(info.id)\t\(info.request.name)\tnext run \(info.nextRun)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List schedules.")
        @OptionGroup var options: CoordinatorOptions

        func run() async throws {
            let schedules = try await options.withConnection { try await ScheduleAPIClient($0).list() }
            print("id\tname\treport\twindow\tevery\tat\tnext run\tlast job")
            for s in schedules {
                let r = s.request
                let every = r.every + (r.weekday.map { " " + $0 } ?? "") + (r.day.map { " " + String($0) } ?? "")
                print(
                    [s.id, r.name, r.report, r.window, every, r.at + " " + (r.timezone ?? "UTC"), s.nextRun, s.lastJob ?? "-"].joined(
                        separator: "\t"))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a schedule (by id or name).")
        @OptionGroup var options: CoordinatorOptions
        @Argument(help: "Its id or name.") var schedule: String

        func run() async throws {
            let schedule = self.schedule
            try await options.withConnection { try await ScheduleAPIClient($0).delete(schedule) }
        }
    }
}
