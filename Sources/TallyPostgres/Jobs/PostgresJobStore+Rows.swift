import Foundation
import PostgresNIO
import TallyProtocol
import TallyReport
import TallyStore

/// Jobs and tasks to and from their PostgreSQL rows: the same columns as SQLite's
/// (`SQLiteJobStore+Rows`), lists in child tables.
extension PostgresJobStore {
    static let targetKind = "target"
    static let emailKind = "email"

    static func insertJob(_ tx: PostgresTransaction, id: String, definition d: JobDefinition, owner: String, now: Double) async throws
        -> Int64
    {
        let window = d.report.window
        var inactive: InactiveUsersSpec?
        if case .inactiveUsers(let spec) = d.report { inactive = spec }
        let row = try await tx.one(
            """
            INSERT INTO jobs (id, sequence, report, source, timezone, requested_from, requested_to, inactive_now, inactive_days,
                lookback_days, user_directory, max_malformed_share, window_from, window_to, state, created_at, owner)
            VALUES (\(id), nextval('job_sequence'), \(d.report.kind.rawValue), \(d.source), \(d.timezone), \(d.requestedFrom),
                \(d.requestedTo), \(inactive?.now), \(inactive?.inactiveDays), \(inactive?.lookbackDays), \(d.report.directory),
                \(d.maxMalformedShare), \(window.from), \(window.to), \(JobState.queued.rawValue), \(now), \(owner))
            RETURNING sequence
            """)
        guard let row else { throw StoreError("job \(id) was not inserted") }
        for (kind, names) in [(targetKind, d.notifyTargets), (emailKind, d.notifyEmails)] {
            for (position, name) in names.enumerated() {
                try await tx.execute(
                    "INSERT INTO job_recipients (job_id, kind, position, name) VALUES (\(id), \(kind), \(position), \(name))")
            }
        }
        return try row.value("sequence")
    }

    /// Jobs from their rows, in the rows' order (their recipients in one more read).
    static func jobs(_ rows: [PostgresRandomAccessRow], reader: some PostgresReader) async throws -> [JobRecord] {
        let ids = try rows.map { try $0.value("id", as: String.self) }
        var targets: [String: [String]] = [:]
        var emails: [String: [String]] = [:]
        if !ids.isEmpty {
            for row in try await reader.rows(
                "SELECT job_id, kind, name FROM job_recipients WHERE job_id = ANY(\(ids)) ORDER BY job_id, kind, position")
            {
                let jobId: String = try row.value("job_id")
                let name: String = try row.value("name")
                if try row.value("kind", as: String.self) == emailKind {
                    emails[jobId, default: []].append(name)
                } else {
                    targets[jobId, default: []].append(name)
                }
            }
        }
        return try rows.map { row in
            let id: String = try row.value("id")
            return try job(from: row, targets: targets[id] ?? [], emails: emails[id] ?? [])
        }
    }

    static func job(id: String, reader: some PostgresReader) async throws -> JobRecord? {
        try await jobs(reader.rows("SELECT * FROM jobs WHERE id = \(id)"), reader: reader).first
    }

    private static func job(from row: PostgresRandomAccessRow, targets: [String], emails: [String]) throws -> JobRecord {
        let id: String = try row.value("id")
        let report = try ReportSpec.stored(
            jobId: id, kind: row.value("report"), windowFrom: row.value("window_from"), windowTo: row.value("window_to"),
            inactiveNow: row.value("inactive_now"), inactiveDays: row.value("inactive_days"), lookbackDays: row.value("lookback_days"),
            directory: row.value("user_directory"))
        let definition = JobDefinition(
            report: report, source: try row.value("source"), timezone: try row.value("timezone"),
            requestedFrom: try row.value("requested_from"), requestedTo: try row.value("requested_to"),
            maxMalformedShare: try row.value("max_malformed_share"), notifyTargets: targets, notifyEmails: emails)
        return JobRecord(
            id: id, sequence: try row.value("sequence"), definition: definition,
            state: JobState(rawValue: try row.value("state")) ?? .failed, error: try row.value("error"),
            createdAt: try row.value("created_at"), startedAt: try row.value("started_at"), lastPartialAt: try row.value("last_partial_at"),
            finishedAt: try row.value("finished_at"), tasksTotal: try row.value("tasks_total"),
            objectsTotal: try row.value("objects_total"),
            bytesTotal: try row.value("bytes_total"), users: try row.value("users"), resultBytes: try row.value("result_bytes"),
            copiesStarted: try row.value("copies_started"), copiesWon: try row.value("copies_won"), owner: try row.value("owner"))
    }

    // MARK: Tasks

    /// What stands for NULL in the arrays `insertObjects` unnests (an array element cannot be NULL
    /// through postgres-nio's arrays): values no object name or version can hold.
    private static let absent = Int64.min
    private static let absentText = "\u{1}absent"

    static func insertObjects(_ tx: PostgresTransaction, of task: ReportTask, jobId: String) async throws {
        guard !task.objects.isEmpty else { return }
        // One statement per task, whatever its objects: arrays unnested into rows.
        let objects = task.objects
        try await tx.execute(
            """
            INSERT INTO task_objects (job_id, idx, position, name, size, name_start, name_end, version)
            SELECT \(jobId), \(task.index), o.position - 1, o.name, o.size, NULLIF(o.name_start, \(Self.absent)), NULLIF(o.name_end, \(Self.absent)),
                NULLIF(o.version, \(Self.absentText))
            FROM unnest(\(objects.map(\.name)), \(objects.map(\.size)), \(objects.map { $0.nameTime?.start ?? Self.absent }),
                        \(objects.map { $0.nameTime?.end ?? Self.absent }), \(objects.map { $0.version ?? Self.absentText }))
                 WITH ORDINALITY AS o(name, size, name_start, name_end, version, position)
            """)
    }

    /// Tasks from their rows, each with its objects (read in one more statement).
    static func tasks(_ rows: [PostgresRandomAccessRow], reader: some PostgresReader) async throws -> [TaskRecord] {
        guard let first = rows.first else { return [] }
        let jobId: String = try first.value("job_id")
        let indexes = try rows.map { try $0.value("idx", as: Int.self) }
        var objects: [Int: [LogObject]] = [:]
        for object in try await reader.rows(
            """
            SELECT idx, name, size, name_start, name_end, version FROM task_objects
            WHERE job_id = \(jobId) AND idx = ANY(\(indexes)) ORDER BY idx, position
            """)
        {
            let start: Int64? = try object.value("name_start")
            let end: Int64? = try object.value("name_end")
            objects[try object.value("idx"), default: []].append(
                LogObject(
                    name: try object.value("name"), size: try object.value("size"),
                    nameTime: start.flatMap { start in end.map { ObjectTimeRange(start: start, end: $0) } },
                    version: try object.value("version")))
        }
        return try rows.map { row in
            let index: Int = try row.value("idx")
            return try task(from: row, objects: objects[index] ?? [])
        }
    }

    private static func task(from row: PostgresRandomAccessRow, objects: [LogObject]) throws -> TaskRecord {
        let start: Int64? = try row.value("shard_start")
        let end: Int64? = try row.value("shard_end")
        let shard = start.flatMap { start in end.map { TimeShard(start: start, end: $0) } }
        let index: Int = try row.value("idx")
        let isMerge = try row.value("kind", as: String.self) == TaskKind.merge.rawValue
        return TaskRecord(
            jobId: try row.value("job_id"), index: index, state: TaskState(rawValue: try row.value("state")) ?? .abandoned,
            task: ReportTask(index: index, shard: shard, objects: objects), leaseId: try row.value("lease_id"),
            leaseExpires: try row.value("lease_expires"), worker: try row.value("worker"), failures: try row.value("failures"),
            expiries: try row.value("expiries"),
            mergeRange: isMerge
                ? UserKeyRange(
                    lower: try row.value("range_lower", as: Data?.self).map(Array.init),
                    upper: try row.value("range_upper", as: Data?.self).map(Array.init))
                : nil,
            rangeRows: try row.value("range_rows"), rangeBytes: try row.value("range_bytes"),
            rangeCRC: try row.value("range_crc", as: Int64?.self).map { UInt32(truncatingIfNeeded: $0) },
            committedLease: try row.value("committed_lease"))
    }
}
