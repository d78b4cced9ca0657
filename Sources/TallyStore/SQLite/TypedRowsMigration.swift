import Foundation
import GRDB
import TallyFormats
import TallyProtocol
import TallyReport

/// Migration v15: the JSON blobs of jobs (`request`), tasks (`spec`) and schedules (`request`)
/// become columns and child tables. The blobs are read with the wire types of the release that
/// wrote them, once, here; nothing else reads them.
package enum TypedRowsMigration {
    package static func run(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE jobs ADD COLUMN report TEXT NOT NULL DEFAULT 'active-users';
                ALTER TABLE jobs ADD COLUMN source TEXT NOT NULL DEFAULT '';
                ALTER TABLE jobs ADD COLUMN timezone TEXT;
                ALTER TABLE jobs ADD COLUMN requested_from TEXT;
                ALTER TABLE jobs ADD COLUMN requested_to TEXT;
                ALTER TABLE jobs ADD COLUMN inactive_now INTEGER;
                ALTER TABLE jobs ADD COLUMN inactive_days INTEGER;
                ALTER TABLE jobs ADD COLUMN lookback_days INTEGER;
                ALTER TABLE jobs ADD COLUMN user_directory TEXT;
                ALTER TABLE jobs ADD COLUMN max_malformed_share REAL;
                CREATE TABLE job_recipients (
                    job_id TEXT NOT NULL REFERENCES jobs(id),
                    kind TEXT NOT NULL CHECK (kind IN ('target', 'email')),
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    PRIMARY KEY (job_id, kind, position)
                );
                ALTER TABLE tasks ADD COLUMN shard_start INTEGER;
                ALTER TABLE tasks ADD COLUMN shard_end INTEGER;
                CREATE TABLE task_objects (
                    job_id TEXT NOT NULL,
                    idx INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    name_start INTEGER,
                    name_end INTEGER,
                    version TEXT,
                    PRIMARY KEY (job_id, idx, position)
                );
                ALTER TABLE schedules ADD COLUMN report TEXT NOT NULL DEFAULT 'active-users';
                ALTER TABLE schedules ADD COLUMN source TEXT NOT NULL DEFAULT '';
                ALTER TABLE schedules ADD COLUMN window_rule TEXT NOT NULL DEFAULT '';
                ALTER TABLE schedules ADD COLUMN timezone TEXT;
                ALTER TABLE schedules ADD COLUMN every TEXT NOT NULL DEFAULT '';
                ALTER TABLE schedules ADD COLUMN weekday TEXT;
                ALTER TABLE schedules ADD COLUMN day INTEGER;
                ALTER TABLE schedules ADD COLUMN run_at TEXT NOT NULL DEFAULT '';
                ALTER TABLE schedules ADD COLUMN inactive_days INTEGER;
                ALTER TABLE schedules ADD COLUMN lookback_days INTEGER;
                ALTER TABLE schedules ADD COLUMN users TEXT;
                CREATE TABLE schedule_targets (
                    schedule_id TEXT NOT NULL REFERENCES schedules(id),
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    PRIMARY KEY (schedule_id, position)
                );
                """)
        let decoder = TallyJSON.decoder()
        for row in try Row.fetchAll(db, sql: "SELECT id, request FROM jobs") {
            let id: String = row["id"]
            let request = try decoder.decode(JobRequest.self, from: row["request"] as Data)
            let inactive = request.report == ReportKind.inactiveUsers.rawValue
            // The stored `now` is the RFC 3339 UTC instant the job was resolved with.
            let now = try request.now.map { text in
                guard let micros = Array(text.utf8).withUnsafeBytes({ EventTimestamp.parseRFC3339($0) }) else {
                    throw StoreError("job \(id): stored now '\(text)' is not an RFC 3339 instant")
                }
                return micros
            }
            try db.execute(
                sql: """
                    UPDATE jobs SET report = ?, source = ?, timezone = ?, requested_from = ?, requested_to = ?, inactive_now = ?,
                        inactive_days = ?, lookback_days = ?, user_directory = ?, max_malformed_share = ? WHERE id = ?
                    """,
                arguments: [
                    request.report, request.source, request.timezone, request.from, request.to, inactive ? now : nil,
                    inactive ? request.inactiveDays : nil, inactive ? request.lookbackDays : nil, request.users,
                    request.maxMalformedShare, id,
                ])
            try SQLiteJobStore.insertRecipients(
                db, jobId: id, .init(targets: request.notify ?? [], emails: request.notifyEmails ?? []))
        }
        for row in try Row.fetchAll(db, sql: "SELECT job_id, idx, spec FROM tasks") {
            let task = try decoder.decode(WireTask.self, from: row["spec"] as Data).engineTask
            try db.execute(
                sql: "UPDATE tasks SET shard_start = ?, shard_end = ? WHERE job_id = ? AND idx = ?",
                arguments: [task.shard?.start, task.shard?.end, row["job_id"], row["idx"]])
            try SQLiteJobStore.insertObjects(db, of: task, jobId: row["job_id"])
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, request FROM schedules") {
            let request = try decoder.decode(ScheduleRequest.self, from: row["request"] as Data)
            try SQLiteScheduleStore.writeScheduleColumns(db, id: row["id"], request)
        }
        try db.execute(
            sql: """
                ALTER TABLE jobs DROP COLUMN request;
                ALTER TABLE tasks DROP COLUMN spec;
                ALTER TABLE schedules DROP COLUMN request;
                """)
    }
}
