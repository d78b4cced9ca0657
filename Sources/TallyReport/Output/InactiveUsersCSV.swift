import TallyFormats
import TallySketches

/// Renders the inactive-users report (docs/design.md §1.7): users of the directory or of the
/// look-back with no counted connection in `[now − inactiveDays, now)`, in email byte order.
/// `last_access_date` is the latest counted connection of the look-back (empty when there was
/// none), `inactive_days` the whole days from it to `now` (empty with it).
public enum InactiveUsersCSV {
    /// The header line's columns, in order.
    public static let columns = ["user_email", "last_access_date", "inactive_days"]

    /// The header line, with its line end.
    public static var header: [UInt8] { Array((columns.joined(separator: ",") + "\n").utf8) }

    /// The rule a report applies.
    public struct Rule: Sendable, Equatable {
        /// The end of the look-back (exclusive), microseconds since the epoch.
        public var now: Int64
        /// Days without a counted connection that make a user inactive.
        public var inactiveDays: Int

        public init(now: Int64, inactiveDays: Int) {
            self.now = now
            self.inactiveDays = inactiveDays
        }

        /// The first instant of the active period: a connection at or after it makes a user active.
        public var activeFrom: Int64 { now - Int64(inactiveDays) * CivilTime.microsPerDay }
    }

    /// The report over `users` (the merged look-back, in email byte order) and `directory`, and
    /// how many rows it has.
    public static func render(users: [RowAggregate], directory: UserDirectory, rule: Rule) -> (csv: [UInt8], rows: Int) {
        let (body, rows) = rows(users: users, directory: directory, rule: rule)
        return (header + body, rows)
    }

    /// The rows (no header) over `users` and the directory's emails inside `range`: a range's
    /// share of the report, so the ranges' rows in order are `render`'s rows.
    public static func rows(
        users: [RowAggregate], directory: UserDirectory, rule: Rule, range: UserKeyRange = .all
    ) -> (bytes: [UInt8], rows: Int) {
        var out: [UInt8] = []
        var iterator = users.makeIterator()
        let rows = streamRows(next: { iterator.next() }, directory: directory, rule: rule, range: range) { out += $0 }
        return (out, rows)
    }

    /// The rows of users that arrive one at a time in email order (`StreamingMerge`), handed
    /// to `emit` in chunks of about 64 KiB; the number of rows. Errors from `next` or `emit`
    /// stop it.
    public static func streamRows<E: Error>(
        next: () throws(E) -> RowAggregate?, directory: UserDirectory, rule: Rule, range: UserKeyRange = .all,
        emit: ([UInt8]) throws(E) -> Void
    ) throws(E) -> Int {
        var out = RowChunks()
        var d = 0
        let listed = range == .all ? directory.emails : directory.emails.filter(range.contains)
        var user = try next()
        while user != nil || d < listed.count {
            let order = user == nil ? 1 : d == listed.count ? -1 : ByteStringOrder.compare(user!.key, listed[d])
            if order <= 0, let current = user {
                if current.counters.lastAccess < rule.activeFrom {
                    appendRow(email: current.key, lastAccess: current.counters.lastAccess, now: rule.now, to: &out.bytes)
                    try out.endRow(emit)
                }
                user = try next()
                if order == 0 { d += 1 }
            } else {
                appendRow(email: listed[d], lastAccess: nil, now: rule.now, to: &out.bytes)
                try out.endRow(emit)
                d += 1
            }
        }
        return try out.finish(emit)
    }

    static func appendRow(email: [UInt8], lastAccess: Int64?, now: Int64, to out: inout [UInt8]) {
        CSVField.append(email, to: &out)
        out.append(UInt8(ascii: ","))
        if let lastAccess {
            out.append(contentsOf: CivilTime.rfc3339Millis(micros: lastAccess).utf8)
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: String(now.saturatingSubtract(lastAccess) / CivilTime.microsPerDay).utf8)
        } else {
            out.append(UInt8(ascii: ","))
        }
        out.append(UInt8(ascii: "\n"))
    }
}
