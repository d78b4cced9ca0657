import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import TallyFormats
import TallyProtocol
import TallyServices
import TallyStore

/// Announces job ends to the targets the jobs name: a service that turns every job that
/// succeeded or failed into pending deliveries (durably, so a restart loses none), then sends
/// each one — signed, `policy.timeoutSeconds` at most — until it is delivered, its retries are
/// spent, or its target answers `410 Gone` (which stops every later delivery to it).
package struct Notifier: Service {
    package let jobs: any JobStore
    package let deliveries: any NotificationStore
    package let policy: NotificationPolicy
    package let clock: any CoordinatorClock
    /// How long results are kept (the mail says until when).
    package let resultTTLDays: Double
    package let logger: Logger

    /// A value with every field given.
    package init(
        jobs: any JobStore, deliveries: any NotificationStore, policy: NotificationPolicy, clock: any CoordinatorClock,
        resultTTLDays: Double, logger: Logger
    ) {
        self.jobs = jobs
        self.deliveries = deliveries
        self.policy = policy
        self.clock = clock
        self.resultTTLDays = resultTTLDays
        self.logger = logger
    }

    package static let tick: Double = 0.25

    /// The client is this service's own: made when it starts, shut down when it stops.
    package func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(Int64(policy.timeoutSeconds)))
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        await PeriodicService.run(every: Self.tick, on: clock) { await runOnce(http: http) }
        try? await http.shutdown()
    }

    /// Creates the deliveries of newly ended jobs and makes every attempt that is due.
    package func runOnce(http: HTTPClient) async {
        do {
            _ = try await deliveries.enqueueEndedJobs(now: clock.now())
            for delivery in try await deliveries.dueDeliveries(now: clock.now(), limit: 100) {
                guard !Task.isCancelled else { return }
                await attempt(delivery, http: http)
            }
        } catch is CancellationError {
            // Shut down, or (with replicas) no longer the leader: the next pass, wherever it runs, goes on.
        } catch {
            logger.error("notification pass failed", metadata: ["error": "\(error)"])
        }
    }

    private func attempt(_ delivery: Delivery, http: HTTPClient) async {
        var log = logger
        log[metadataKey: "job"] = "\(delivery.jobId)"
        log[metadataKey: "target"] = "\(delivery.target)"
        do {
            if delivery.target.hasPrefix(Delivery.emailTarget) {
                try await mail(delivery, log: log)
                return
            }
            guard let target = policy.targets[delivery.target] else {
                try await deliveries.recordAttempt(
                    delivery.id, state: "failed", status: nil, error: "target '\(delivery.target)' is not configured", nextAt: nil)
                return
            }
            if try await deliveries.isStopped(target.name) {
                try await deliveries.recordAttempt(
                    delivery.id, state: "stopped", status: nil, error: "the target answered 410 Gone before", nextAt: nil)
                return
            }
            guard let job = try await jobs.job(delivery.jobId) else {
                try await deliveries.recordAttempt(delivery.id, state: "failed", status: nil, error: "the job is gone", nextAt: nil)
                return
            }
            let timestamp = Int64(clock.now())
            let body = try payload(job, timestamp: timestamp)
            var request = HTTPClientRequest(url: target.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "tally")
            request.headers.add(name: "webhook-id", value: delivery.messageId)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature",
                value: WebhookSignature.sign(id: delivery.messageId, timestamp: timestamp, body: body, key: target.key))
            request.body = .bytes(ByteBuffer(bytes: body))
            var status: Int?
            var failure: String?
            do {
                let response = try await http.execute(request, timeout: .milliseconds(Int64(policy.timeoutSeconds * 1000)))
                status = Int(response.status.code)
                _ = try? await response.body.collect(upTo: 64 * 1024)
            } catch {
                failure = "\(error)"
            }
            switch status {
            case .some(200..<300):
                try await deliveries.recordAttempt(delivery.id, state: "delivered", status: status, error: nil, nextAt: nil)
                log.info("job end announced", metadata: ["status": "\(status ?? 0)"])
            case .some(410):
                try await deliveries.stopTarget(target.name, now: clock.now())
                try await deliveries.recordAttempt(
                    delivery.id, state: "stopped", status: 410, error: "410 Gone: no more deliveries to this target", nextAt: nil)
                log.warning("notification target answered 410 Gone; no more deliveries go to it")
            default:
                try await retryLater(
                    delivery, status: status, error: failure.map { String($0.prefix(500)) } ?? "HTTP \(status ?? 0)", log: log)
            }
        } catch {
            log.error("notification attempt could not be recorded", metadata: ["error": "\(error)"])
        }
    }

    /// Records a failed attempt: pending again after the next pause, or failed once they are spent.
    private func retryLater(_ delivery: Delivery, status: Int?, error: String, log: Logger) async throws {
        let attempt = delivery.attempts + 1
        if attempt <= policy.retrySeconds.count {
            let pause = policy.retrySeconds[attempt - 1] * Double.random(in: 0.8...1.2)
            try await deliveries.recordAttempt(delivery.id, state: "pending", status: status, error: error, nextAt: clock.now() + pause)
            log.warning("notification failed, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)", "retry_in": "\(pause)"])
        } else {
            try await deliveries.recordAttempt(delivery.id, state: "failed", status: status, error: error, nextAt: nil)
            log.error("notification failed for good", metadata: ["error": "\(error)", "attempts": "\(attempt)"])
        }
    }

    /// Mails a job's end through the configured relay.
    private func mail(_ delivery: Delivery, log: Logger) async throws {
        let address = String(delivery.target.dropFirst(Delivery.emailTarget.count))
        guard let email = policy.email, email.problem(with: address) == nil else {
            try await deliveries.recordAttempt(
                delivery.id, state: "failed", status: nil, error: "e-mail to \(address) is not allowed here", nextAt: nil)
            return
        }
        guard let job = try await jobs.job(delivery.jobId) else {
            try await deliveries.recordAttempt(delivery.id, state: "failed", status: nil, error: "the job is gone", nextAt: nil)
            return
        }
        let client = SMTPClient(
            host: email.server, port: email.port, username: email.username, password: email.password, caFile: email.caFile,
            timeout: .milliseconds(Int64(max(policy.timeoutSeconds, 30) * 1000)))
        do {
            try await client.send(
                from: email.sender, to: [address],
                message: JobEndMail.message(
                    job, from: email.sender, to: address, policy: policy,
                    resultTTLDays: resultTTLDays, now: clock.now()))
            try await deliveries.recordAttempt(delivery.id, state: "delivered", status: 250, error: nil, nextAt: nil)
            log.info("job end mailed")
        } catch {
            try await retryLater(delivery, status: nil, error: String("\(error)".prefix(500)), log: log)
        }
    }

    /// `{"type": "report.succeeded" | "report.failed", "timestamp", "data": {…}}`.
    package func payload(_ job: JobRecord, timestamp: Int64) throws -> [UInt8] {
        let succeeded = job.state == .succeeded
        var data: [String: Any] = [
            "job": job.id, "report": job.definition.report.kind.rawValue, "status": job.state.rawValue,
            "window": ["from": CivilTime.rfc3339(micros: job.window.from), "to": CivilTime.rfc3339(micros: job.window.to)],
            "zone": job.definition.timezone ?? "UTC",
        ]
        if succeeded {
            data["rows"] = job.users ?? 0
            if let base = policy.publicURL { data["result_url"] = base + "/v1/jobs/" + job.id + "/result" }
        } else {
            data["error"] = job.error ?? "failed"
        }
        let object: [String: Any] = [
            "type": succeeded ? "report.succeeded" : "report.failed",
            "timestamp": CivilTime.rfc3339(micros: timestamp * 1_000_000), "data": data,
        ]
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}
