import Foundation
import Logging
import ServiceLifecycle
import TallyCoordinator
import TallyProtocol
import TallySources

/// What `tally run` starts: a coordinator inside this process on a loopback port with a
/// temporary data directory, and `workers` child `tally worker` processes. Everything is
/// stopped (and the directory removed) by `shutdown()`, also on Ctrl-C.
final class LocalCluster: @unchecked Sendable {
    /// The coordinator's base URL.
    let url: String
    /// The secret of the admin token `tally run` talks to its coordinator with.
    let token: String
    /// The secret of the short-lived worker token its children use.
    private let workerToken: String
    private let dataDirectory: String
    private let serverTask: Task<Void, any Error>
    private let services: ServiceGroup
    private var children: [Process] = []
    private let lock = NSLock()

    /// The name the job refers to its source by.
    static let sourceName = "cli"
    /// The name `--users` is configured under.
    static let directoryName = "cli-users"

    private init(
        url: String, token: String, workerToken: String, dataDirectory: String, services: ServiceGroup,
        serverTask: Task<Void, any Error>
    ) {
        self.url = url
        self.token = token
        self.workerToken = workerToken
        self.dataDirectory = dataDirectory
        self.services = services
        self.serverTask = serverTask
    }

    /// Starts the coordinator and the workers.
    static func start(source: ConfiguredSource, userDirectory: String? = nil, workers: Int) async throws -> LocalCluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tally-run-\(getpid())-\(UUID().uuidString.prefix(8))"
        ).path
        var configuration = CoordinatorConfiguration(
            listenHost: "127.0.0.1", listenPort: 0, dataDirectory: directory,
            leaseSeconds: 30, sources: [sourceName: source])
        configuration.maxAttempts = 3
        // The data directory goes with the run: nothing would ever reuse a cached shard.
        configuration.shardCache.maximumBytes = 0
        if let userDirectory { configuration.userDirectories[directoryName] = userDirectory }
        // The run's own summary and one-line errors speak for the embedded coordinator.
        var logger = Logger(label: "tally.run")
        logger.logLevel = .critical
        let coordinator = try Coordinator(configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(
                        service: try coordinator.application { port in
                            continuation.yield(port)
                            continuation.finish()
                        })
                ],
                logger: logger))
        let serverTask = Task {
            // A server that fails to bind ends the port stream empty instead of leaving us waiting.
            defer { continuation.finish() }
            try await group.run()
        }
        var port: Int?
        for await p in ports { port = p }
        guard let port else {
            serverTask.cancel()
            throw JobError(reason: "the embedded coordinator did not start")
        }
        // Tokens for this run only (a day at most): its workers may only speak the worker
        // protocol, and nothing else on this machine can use the coordinator without one. The
        // workers are this process's children: trusted, so they run merge tasks.
        let tokens: (own: String, worker: String)
        do {
            let own = try await coordinator.createToken(TokenRequest(user: "tally-run", role: .admin, expiresDays: 1))
            let worker = try await coordinator.createToken(TokenRequest(user: "tally-run", role: .worker, expiresDays: 1, trusted: true))
            tokens = (own.secret ?? "", worker.secret ?? "")
        } catch {
            await group.triggerGracefulShutdown()
            throw JobError(reason: "the embedded coordinator could not make its tokens: \(error)")
        }
        let cluster = LocalCluster(
            url: "http://127.0.0.1:\(port)", token: tokens.own, workerToken: tokens.worker, dataDirectory: directory,
            services: group, serverTask: serverTask)
        try cluster.spawnWorkers(workers)
        return cluster
    }

    private func spawnWorkers(_ count: Int) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        for i in 1...count {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["worker", "--coordinator", url, "--concurrency", "1", "--name", "run-\(i)"]
            var environment = ProcessInfo.processInfo.environment
            environment["TALLY_LOG_LEVEL"] = environment["TALLY_LOG_LEVEL"] ?? "error"
            // In the environment, not the arguments: other local users can read arguments.
            environment["TALLY_TOKEN"] = workerToken
            process.environment = environment
            let log = dataDirectory + "/worker-\(i).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: log)
            process.standardError = FileHandle(forWritingAtPath: log)
            do {
                try process.run()
            } catch {
                throw JobError(reason: "cannot start worker process \(executable.path): \(error.localizedDescription)")
            }
            lock.withLock { children.append(process) }
        }
    }

    /// Why the job cannot finish, when every worker process has exited: their exit status and
    /// the last line each one logged.
    func workersGone() -> String? {
        let processes = lock.withLock { children }
        guard !processes.isEmpty, processes.allSatisfy({ !$0.isRunning }) else { return nil }
        let reasons = processes.enumerated().map { i, process in
            let log = (try? String(contentsOfFile: dataDirectory + "/worker-\(i + 1).log", encoding: .utf8)) ?? ""
            let last = log.split(whereSeparator: \.isNewline).last.map(String.init) ?? "no output"
            return "worker \(i + 1) exited with status \(process.terminationStatus): \(last)"
        }
        return "all worker processes exited: " + reasons.joined(separator: "; ")
    }

    /// Stops the workers (SIGTERM, then SIGKILL), the coordinator, and removes the directory.
    func shutdown() async {
        let processes = lock.withLock { children }
        for process in processes where process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(5)
        for process in processes {
            while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        await services.triggerGracefulShutdown()
        _ = await serverTask.result
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// Kills everything at once, for a signal handler: no awaiting, no cleanup beyond children.
    func killChildrenNow() {
        for process in lock.withLock({ children }) where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}
