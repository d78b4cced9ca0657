import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TallyClient
import TallyCoordinator
import TallyWorker

/// `tally coordinator`: the long-running coordinator service.
struct CoordinatorCommand: AsyncParsableCommand, LogFormatOption {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator: job API, planning, leases, merging."
    )

    @Option(help: "Configuration file (tally.yaml).")
    var config: String

    @Option(help: "Listen address HOST:PORT, overriding the file's.")
    var listen: String?

    @Option(help: "Data directory, overriding the file's.")
    var dataDir: String?

    @Option(help: "Log lines as text or json (default: $TALLY_LOG_FORMAT, else text).")
    var logFormat: LogLineFormat?

    func run() async throws {
        ProcessMemory.returnLargeBlocks()
        var configuration = try CoordinatorConfiguration.load(path: config)
        configuration.replicaName = ProcessInfo.processInfo.environment["TALLY_REPLICA_NAME"].flatMap { $0.isEmpty ? nil : $0 }
        if let listen {
            let probe = try CoordinatorConfiguration.parse("listen: \"\(listen)\"", file: "--listen")
            configuration.listenHost = probe.listenHost
            configuration.listenPort = probe.listenPort
        }
        if let dataDir { configuration.dataDirectory = dataDir }
        let coordinator = try Coordinator(configuration: configuration, logger: Logger(label: "tally.coordinator"))
        let host = configuration.listenHost
        try await coordinator.run { port in
            Logger(label: "tally.coordinator").info("listening", metadata: ["address": "\(host):\(port)"])
        }
    }
}

/// `tally worker`: leases tasks from a coordinator until stopped.
struct WorkerCommand: AsyncParsableCommand, LogFormatOption {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker: lease tasks from a coordinator, read logs, upload partials."
    )

    @Option(help: "Coordinator URL (default: $TALLY_COORDINATOR).")
    var coordinator: String?

    @Option(help: "Log lines as text or json (default: $TALLY_LOG_FORMAT, else text).")
    var logFormat: LogLineFormat?

    @Option(help: "Tasks run at once.")
    var concurrency: Int = 1

    @Option(help: "Name in the coordinator's logs and metrics (default: host-pid).")
    var name: String?

    @Option(help: "Bearer secret of a worker token (default: $TALLY_TOKEN).")
    var token: String?

    @Option(help: "File holding the worker token's secret (its first line).")
    var tokenFile: String?

    @Option(help: "PEM file of the CA that signed an https coordinator's certificate (default: $TALLY_CA_FILE, else the system's roots).")
    var caFile: String?

    @Option(
        help: "How long an upload the coordinator refuses with 5xx (e.g. its disk is full) is retried before the task fails, in seconds.")
    var uploadRetrySeconds: Int = 300

    func validate() throws {
        guard concurrency >= 1, concurrency <= 256 else { throw ValidationError("--concurrency must be between 1 and 256") }
        guard uploadRetrySeconds >= 1, uploadRetrySeconds <= 86_400 else {
            throw ValidationError("--upload-retry-seconds must be between 1 and 86400")
        }
        guard token == nil || tokenFile == nil else { throw ValidationError("give --token or --token-file, not both") }
        guard coordinator != nil || ProcessInfo.processInfo.environment["TALLY_COORDINATOR"] != nil else {
            throw ValidationError("--coordinator is required (or set TALLY_COORDINATOR)")
        }
    }

    func run() async throws {
        ProcessMemory.returnLargeBlocks()
        let url = coordinator ?? ProcessInfo.processInfo.environment["TALLY_COORDINATOR"]!
        var secret = token ?? ProcessInfo.processInfo.environment["TALLY_TOKEN"]
        if let tokenFile { secret = try SecretFile.read(tokenFile, option: "--token-file") }
        let workerName = name ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        var logger = Logger(label: "tally.worker")
        logger[metadataKey: "worker"] = "\(workerName)"
        try await CoordinatorHTTPClient.with(caFile: caFile ?? ProcessInfo.processInfo.environment["TALLY_CA_FILE"]) { http in
            let worker = Worker(
                coordinator: WorkerProtocolClient(
                    CoordinatorConnection(baseURL: url, http: http, token: secret, logger: logger),
                    uploadRetryLimit: .seconds(uploadRetrySeconds)),
                name: workerName, concurrency: concurrency, logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}
