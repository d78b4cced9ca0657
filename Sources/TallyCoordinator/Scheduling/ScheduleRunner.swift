import Logging
import ServiceLifecycle
import TallyFormats
import TallyProtocol
import TallyReport
import TallyServices
import TallyStore

/// Submits the jobs of schedules that are due. A run is the scheduled time's, so a coordinator
/// that was down for several runs submits the latest one once when it comes back (not one per
/// missed run), and its window is that run's. Each submission carries an idempotency key of the
/// schedule and its time, so a crash between submitting and recording the run never submits twice.
struct ScheduleRunner: Service {
    let schedules: any ScheduleStore
    /// Submits the runs' jobs with the checks every job meets (a source or target removed from
    /// tally.yaml since the schedule was saved is refused, and said in the log).
    let jobs: JobService
    let logger: Logger

    var configuration: CoordinatorConfiguration { jobs.configuration }
    var clock: any CoordinatorClock { jobs.clock }

    static let tick: Double = 1

    func run() async throws {
        try await installConfigured()
        await PeriodicService.run(every: Self.tick, on: clock) { await runOnce() }
    }

    /// Stores the schedules `tally.yaml` lists (by name: an unchanged one keeps its next run).
    func installConfigured() async throws {
        for request in configuration.schedules {
            let rule = try ScheduleRule(request)
            _ = try await schedules.saveSchedule(request, nextRun: rule.nextRun(after: clock.now()))
        }
    }

    /// Submits every due schedule's job.
    func runOnce() async {
        do {
            let now = clock.now()
            for schedule in try await schedules.schedules() where schedule.nextRun <= now {
                await submit(schedule, now: now)
            }
        } catch {
            logger.error("schedule pass failed", metadata: ["error": "\(error)"])
        }
    }

    private func submit(_ schedule: StoredSchedule, now: Double) async {
        var log = logger
        log[metadataKey: "schedule"] = "\(schedule.request.name)"
        do {
            let rule = try ScheduleRule(schedule.request)
            // The latest of the runs that are due (several when the coordinator was down).
            var run = schedule.nextRun
            for _ in 0..<1000 {
                let next = rule.nextRun(after: run)
                guard next <= now else { break }
                run = next
            }
            let key = "schedule\u{0}\(schedule.id)\u{0}\(Int64(run))"
            var jobId: String?
            do {
                jobId = try await jobs.create(
                    try rule.job(for: run), owner: "schedule:" + schedule.request.name, idempotencyKey: key,
                    maxActive: Int.max, submittedAt: run
                ).job.id
            } catch let refused as JobError {
                // The run is recorded as done without a job: the next one is tried at its time.
                log.error("scheduled job refused", metadata: ["reason": "\(refused.reason)", "field": "\(refused.field ?? "-")"])
            }
            try await schedules.recordRun(schedule.id, ranAt: run, job: jobId, nextRun: rule.nextRun(after: now))
            log.info(
                "scheduled job submitted",
                metadata: ["job": "\(jobId ?? "-")", "run": "\(CivilTime.rfc3339(micros: Int64(run * 1_000_000)))"])
        } catch {
            log.error("scheduled job not submitted", metadata: ["error": "\(error)"])
        }
    }
}
