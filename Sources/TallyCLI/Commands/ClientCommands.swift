import ArgumentParser
import Foundation
import TallyClient
import TallyFormats
import TallyProtocol

/// `tally submit`: asks a coordinator for a report; with `--wait`, follows it to the end.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Submit a report job to a coordinator.")

    @OptionGroup var options: CoordinatorOptions

    @Option(help: "Name of a source configured on the coordinator.")
    var source: String

    @OptionGroup var window: WindowOptions

    @Option(help: "inactive-users, resource-access: name of a user directory configured on the coordinator (user_directories).")
    var users: String?

    @Option(help: "Comma-separated notification targets configured on the coordinator, told when the job ends.")
    var notify: String?

    @Option(help: "Comma-separated e-mail addresses told when the job ends (in the coordinator's allowed domains).")
    var notifyEmail: String?

    @Option(help: "Fail the job when more than this share (0 to 1) of the lines read are malformed.")
    var maxMalformedShare: Double?

    @Flag(help: "Wait for the job to finish, showing progress.")
    var wait = false

    @Option(help: "With --wait, write the CSV result here.")
    var out: String?

    func run() async throws {
        try window.validateWindow(users: users)
        try await options.withClient { client in try await submit(client) }
    }

    private func submit(_ client: JobAPIClient) async throws {
        var request = window.request(source: source, users: users, maxMalformedShare: maxMalformedShare)
        request.notify = notify.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        request.notifyEmails = notifyEmail.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let job = try await client.submit(request)
        print(job.id)
        guard wait || out != nil else { return }
        let final = try await JobProgressDisplay().follow(job.id, client: client)
        guard final.state == .succeeded else {
            throw JobError(
                reason: "job \(job.id) \(final.state.rawValue)" + (final.error.map { ": \($0.escapingControlCharacters)" } ?? ""))
        }
        if let out { try await AtomicFile.fetch(job.id, with: client, to: out) }
        CLIOutput.note("job \(job.id) succeeded: \(final.users ?? 0) users" + (out.map { " written to \($0)" } ?? ""))
    }
}

/// `tally status`: one job's state, progress and statistics.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a job's state and progress.")

    @OptionGroup var options: CoordinatorOptions

    @Argument(help: "Job id.")
    var job: String

    @Flag(help: "Print the API's JSON.")
    var json = false

    func run() async throws {
        let status = try await options.withClient { try await $0.status(job) }
        if json {
            print(String(decoding: try TallyJSON.encoder().encode(status), as: UTF8.self))
            return
        }
        let p = status.progress
        print("\(status.id)  \(status.state.rawValue)  \(status.report)  \(status.source)  \(status.windowFrom) .. \(status.windowTo)")
        print(
            "tasks \(p.tasksDone)/\(p.tasksTotal)  objects \(p.objects)/\(p.objectsTotal)  bytes \(p.bytes)/\(p.bytesTotal)  events \(p.events)  \(Int64(saturating: p.eventsPerSecond)) events/s"
        )
        let s = status.statistics
        print(
            "in window \(s.eventsInWindow)  service-account rows \(s.serviceAccountRows)  malformed \(s.malformedTotal)"
                + (s.malformed.isEmpty
                    ? "" : " (" + s.malformed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"))
        if let reused = s.shardsReused, let computed = s.shardsComputed, reused > 0 {
            print(
                "shards computed \(computed)  reused from the cache \(reused)  objects read \(s.objectsRead ?? 0)  bytes read \(s.bytesRead ?? 0)"
            )
        }
        if let users = status.users { print("users \(users)") }
        if let error = status.error { print("error: \(error.escapingControlCharacters)") }
    }
}

/// `tally list`: recent jobs, newest first.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List jobs, newest first.")

    @OptionGroup var options: CoordinatorOptions

    @Option(help: "How many jobs.")
    var limit: Int = 20

    func run() async throws {
        let page = try await options.withClient { try await $0.list(limit: limit, before: nil) }
        for job in page.jobs {
            print(
                "\(job.id)  \(job.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(job.createdAt)  \(job.report)  \(job.source)  \(job.windowFrom) .. \(job.windowTo)"
            )
        }
    }
}

/// `tally fetch`: downloads a finished job's CSV.
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fetch", abstract: "Download a finished job's CSV.")

    @OptionGroup var options: CoordinatorOptions

    @Argument(help: "Job id.")
    var job: String

    @Option(help: "File to write.")
    var out: String

    func run() async throws {
        try await options.withClient { try await AtomicFile.fetch(job, with: $0, to: out) }
    }
}

/// `tally cancel`: stops a job; workers abandon its tasks at their next heartbeat.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a job.")

    @OptionGroup var options: CoordinatorOptions

    @Argument(help: "Job id.")
    var job: String

    func run() async throws {
        let status = try await options.withClient { try await $0.cancel(job) }
        CLIOutput.note("job \(status.id) \(status.state.rawValue)")
    }
}

/// `tally notify`: announces an ended job again (a new delivery, a new message id).
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Announce an ended job to its notification targets again.")

    @OptionGroup var options: CoordinatorOptions

    @Argument(help: "Job id.")
    var job: String

    @Option(help: "Only this configured target (default: the job's own targets).")
    var target: String?

    func run() async throws {
        let status = try await options.withClient { try await $0.notify(job, target: target) }
        for n in status.notifications ?? [] {
            print("\(n.target)\t\(n.state)\t\(n.attempts) attempts" + (n.lastStatus.map { "\tlast HTTP \($0)" } ?? ""))
        }
    }
}

/// The coordinator URL option shared by the client commands.
struct CoordinatorOptions: ParsableArguments {
    @Option(help: "Coordinator URL (default: $TALLY_COORDINATOR, else http://127.0.0.1:8080).")
    var coordinator: String?

    @Option(help: "Bearer secret (default: $TALLY_TOKEN). Prefer the variable: arguments are visible to other local users.")
    var token: String?

    @Option(help: "PEM file of the CA that signed an https coordinator's certificate (default: $TALLY_CA_FILE, else the system's roots).")
    var caFile: String?

    /// The secret in force, if any.
    var secret: String? { token ?? ProcessInfo.processInfo.environment["TALLY_TOKEN"] }

    /// The URL in force.
    var url: String {
        coordinator ?? ProcessInfo.processInfo.environment["TALLY_COORDINATOR"] ?? "http://127.0.0.1:8080"
    }

    /// Runs `body` with a connection to that coordinator, whose HTTP client is shut down after.
    func withConnection<T>(_ body: (CoordinatorConnection) async throws -> T) async throws -> T {
        try await CoordinatorHTTPClient.with(caFile: caFile ?? ProcessInfo.processInfo.environment["TALLY_CA_FILE"]) { http in
            try await body(CoordinatorConnection(baseURL: url, http: http, token: secret))
        }
    }

    /// Runs `body` with a job API client of that coordinator.
    func withClient<T>(_ body: (JobAPIClient) async throws -> T) async throws -> T {
        try await withConnection { try await body(JobAPIClient($0)) }
    }
}
