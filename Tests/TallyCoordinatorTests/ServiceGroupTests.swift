import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Synchronization
import TallyNotifications
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// The coordinator's real background services, run as a ServiceLifecycle group in process on a
/// clock moved by hand: every wait they make is on that clock, so a lease expires, a job merges,
/// a webhook is retried and a schedule fires because the test moved time — never because it
/// slept.
@Suite struct ServiceGroupTests {
    @Test(.timeLimit(.minutes(2))) func leasesExpireJobsMergeWebhooksRetryAndSchedulesFireOnTheInjectedClock() async throws {
        // The webhook's receiver: a real server that answers 503 to every delivery.
        let received = Hits()
        let router = Router()
        router.post("/hook") { _, _ -> HTTPResponse.Status in
            received.count.withLock { $0 += 1 }
            return .serviceUnavailable
        }
        try await Application(router: router).test(.live) { receiver in
            try await run(webhook: "http://127.0.0.1:\(receiver.port ?? 0)/hook", received: received)
        }
    }

    final class Hits: Sendable {
        let count = Mutex(0)
    }

    private func run(webhook: String, received: Hits) async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.notifications.targets["ops"] = try WebhookTarget(
            name: "ops", url: webhook, secret: "whsec_" + Data(repeating: 1, count: 24).base64EncodedString())
        configuration.notifications.retrySeconds = [30, 30]
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock)
        let clock = fixture.clock
        let group = ServiceGroup(
            configuration: .init(services: coordinator.backgroundServices(), logger: Logger(label: "test")))

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await withClient(coordinator) { client in
                // A submitted job wakes the planner: no time passes.
                let body = #"{"report":"active-users","source":"local","from":"\#(windowFrom)","to":"\#(windowTo)","notify":["ops"]}"#
                let submitted = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body))
                let job = try submitted.decode(JobStatus.self)
                try await eventually("the job to be planned") { try await coordinator.store.job(job.id)?.state == .running }

                // A lease nobody renews expires when the clock passes its deadline.
                let lost = try #require(try await lease(client, worker: "gone"))
                clock.advance(by: fixture.leaseSeconds - 1)
                try await settle(clock)
                #expect(try await coordinator.store.tasks(of: job.id).allSatisfy { $0.expiries == 0 })
                clock.advance(by: 2)
                try await eventually("the lease to expire") {
                    try await coordinator.store.tasks(of: job.id).contains { $0.index == lost.task.index && $0.expiries == 1 }
                }

                // The last commit has the pipeline merge the job: nothing else is stepped.
                try await workUntilNoTasks(client)
                try await eventually("the job to succeed") { try await coordinator.store.job(job.id)?.state == .succeeded }
                let result = try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get)
                #expect(result.bytes == ExpectedReport.csv)

                // The receiver answers 503: the first attempt fails, the retry waits for its pause
                // (30 s ± 20 %) on the clock.
                clock.advance(by: 1)
                try await eventually("the first attempt") {
                    try await coordinator.notifications.deliveries(of: job.id).first?.attempts == 1
                }
                try await settle(clock)
                #expect(try await coordinator.notifications.deliveries(of: job.id).first?.attempts == 1)
                clock.advance(by: 37)
                try await eventually("the retry") { try await coordinator.notifications.deliveries(of: job.id).first?.attempts == 2 }
                #expect(received.count.withLock { $0 } == 2)

                // A schedule fires when the clock reaches its time.
                let schedule =
                    #"{"name":"daily","report":"active-users","source":"local","window":"previous-day","every":"daily","at":"06:00"}"#
                let saved = try await client.execute(uri: "/v1/schedules", method: .post, headers: jsonHeaders, body: json(schedule))
                #expect(saved.status == .created, "\(saved.text)")
                let stored = try #require(try await coordinator.schedules.schedules().first)
                #expect(stored.lastJob == nil)
                clock.advance(by: stored.nextRun - clock.now() + 1)
                try await eventually("the schedule to fire") { try await coordinator.schedules.schedules().first?.lastJob != nil }
                let fired = try #require(try await coordinator.schedules.schedules().first?.lastJob)
                #expect(try await coordinator.store.job(fired) != nil)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// The planner, the lease keeper, the schedule runner, the notifier and the activity log wait
    /// on the clock between passes; the merge pipeline waits for work.
    static let sleepingServices = 5

    /// Lets the services finish reacting to the clock's last move: every one of them is asleep
    /// on it again.
    private func settle(_ clock: ManualClock) async throws {
        try await eventually("the services to sleep again") { clock.sleeperCount >= Self.sleepingServices }
    }
}
