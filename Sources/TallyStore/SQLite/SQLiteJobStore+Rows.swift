import Foundation
import GRDB
import TallyProtocol
import TallyReport

/// Jobs and tasks to and from their rows: each field in a column of its own (docs/design.md
/// §3.1), lists in child tables (`job_recipients`, `task_objects`).
extension SQLiteJobStore {
    /// Who a job tells when it ends.
    package struct Recipients: Sendable, Equatable {
        package var targets: [String] = []
        package var emails: [String] = []

        /// A value with every field given.
        package init(targets: [String] = [], emails: [String] = []) {
            self.targets = targets
            self.emails = emails
        }
    }

    private static let targetKind = "target"
    private static let emailKind = "email"

    package static func insertJob(_ db: Database, id: String, sequence: Int64, definition d: JobDefinition, owner: String, now: Double)
        throws
    {
        let window = d.report.window
        var inactive: InactiveUsersSpec?
        if case .inactiveUsers(let spec) = d.report { inactive = spec }
        try db.execute(
            sql: """
                INSERT INTO jobs (id, sequence, report, source, timezone, requested_from, requested_to, inactive_now, inactive_days,
                    lookback_days, user_directory, max_malformed_share, window_from, window_to, state, created_at, owner)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                id, sequence, d.report.kind.rawValue, d.source, d.timezone, d.requestedFrom, d.requestedTo, inactive?.now,
                inactive?.inactiveDays, inactive?.lookbackDays, d.report.directory, d.maxMalformedShare, window.from, window.to,
                JobState.queued.rawValue, now, owner,
            ])
        try insertRecipients(db, jobId: id, Recipients(targets: d.notifyTargets, emails: d.notifyEmails))
    }

    package static func insertRecipients(_ db: Database, jobId: String, _ recipients: Recipients) throws {
        for (kind, names) in [(targetKind, recipients.targets), (emailKind, recipients.emails)] {
            for (position, name) in names.enumerated() {
                try db.execute(
                    sql: "INSERT INTO job_recipients (job_id, kind, position, name) VALUES (?, ?, ?, ?)",
                    arguments: [jobId, kind, position, name])
            }
        }
    }

    /// The recipients of each of `jobIds` that has any, in one read.
    package static func recipients(_ db: Database, of jobIds: [String]) throws -> [String: Recipients] {
        guard !jobIds.isEmpty else { return [:] }
        var found: [String: Recipients] = [:]
        let marks = Array(repeating: "?", count: jobIds.count).joined(separator: ", ")
        for row in try Row.fetchAll(
            db, sql: "SELECT job_id, kind, name FROM job_recipients WHERE job_id IN (\(marks)) ORDER BY job_id, kind, position",
            arguments: StatementArguments(jobIds))
        {
            let name: String = row["name"]
            if (row["kind"] as String) == emailKind {
                found[row["job_id"], default: Recipients()].emails.append(name)
            } else {
                found[row["job_id"], default: Recipients()].targets.append(name)
            }
        }
        return found
    }

    /// A job by id.
    package static func job(_ db: Database, id: String) throws -> JobRecord? {
        try jobs(db, Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id])).first
    }

    /// Jobs from their rows, in the rows' order (their recipients in one more read).
    package static func jobs(_ db: Database, _ rows: [Row]) throws -> [JobRecord] {
        let recipients = try recipients(db, of: rows.map { $0["id"] })
        return try rows.map { row in try job(from: row, recipients: recipients[row["id"]] ?? Recipients()) }
    }

    private static func job(from row: Row, recipients: Recipients) throws -> JobRecord {
        let id: String = row["id"]
        let report = try ReportSpec.stored(
            jobId: id, kind: row["report"], windowFrom: row["window_from"], windowTo: row["window_to"], inactiveNow: row["inactive_now"],
            inactiveDays: row["inactive_days"], lookbackDays: row["lookback_days"], directory: row["user_directory"])
        let definition = JobDefinition(
            report: report, source: row["source"], timezone: row["timezone"], requestedFrom: row["requested_from"],
            requestedTo: row["requested_to"], maxMalformedShare: row["max_malformed_share"], notifyTargets: recipients.targets,
            notifyEmails: recipients.emails)
        return JobRecord(
            id: id, sequence: row["sequence"], definition: definition,
            state: JobState(rawValue: row["state"]) ?? .failed, error: row["error"],
            createdAt: row["created_at"], startedAt: row["started_at"], lastPartialAt: row["last_partial_at"],
            finishedAt: row["finished_at"],
            tasksTotal: row["tasks_total"], objectsTotal: row["objects_total"], bytesTotal: row["bytes_total"],
            users: row["users"], resultBytes: row["result_bytes"],
            copiesStarted: row["copies_started"], copiesWon: row["copies_won"], owner: row["owner"])
    }

    // MARK: Tasks

    package static func insertObjects(_ db: Database, of task: ReportTask, jobId: String) throws {
        for (position, object) in task.objects.enumerated() {
            try db.execute(
                sql: """
                    INSERT INTO task_objects (job_id, idx, position, name, size, name_start, name_end, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    jobId, task.index, position, object.name, object.size, object.nameTime?.start, object.nameTime?.end, object.version,
                ])
        }
    }

    /// The engine's task of a `tasks` row: its shard from the row, its objects from `task_objects`.
    package static func reportTask(_ db: Database, from row: Row) throws -> ReportTask {
        let objects = try Row.fetchAll(
            db, sql: "SELECT * FROM task_objects WHERE job_id = ? AND idx = ? ORDER BY position", arguments: [row["job_id"], row["idx"]]
        ).map { object in
            let start: Int64? = object["name_start"]
            let end: Int64? = object["name_end"]
            return LogObject(
                name: object["name"], size: object["size"],
                nameTime: start.flatMap { start in end.map { ObjectTimeRange(start: start, end: $0) } }, version: object["version"])
        }
        return ReportTask(index: row["idx"], shard: shard(from: row), objects: objects)
    }

    /// The time shard a `tasks` row covers, when it has one.
    package static func shard(from row: Row) -> TimeShard? {
        guard let start: Int64 = row["shard_start"], let end: Int64 = row["shard_end"] else { return nil }
        return TimeShard(start: start, end: end)
    }

    package static func task(_ db: Database, from row: Row) throws -> TaskRecord {
        TaskRecord(
            jobId: row["job_id"], index: row["idx"], state: TaskState(rawValue: row["state"]) ?? .abandoned,
            task: try reportTask(db, from: row), leaseId: row["lease_id"], leaseExpires: row["lease_expires"], worker: row["worker"],
            failures: row["failures"], expiries: row["expiries"],
            mergeRange: (row["kind"] as String?) == TaskKind.merge.rawValue
                ? UserKeyRange(lower: (row["range_lower"] as Data?).map(Array.init), upper: (row["range_upper"] as Data?).map(Array.init))
                : nil,
            rangeRows: row["range_rows"], rangeBytes: row["range_bytes"],
            rangeCRC: (row["range_crc"] as Int64?).map { UInt32(truncatingIfNeeded: $0) }, committedLease: row["committed_lease"])
    }
}
