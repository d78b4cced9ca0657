import TallyFormats

/// How a job's window is cut into tasks (docs/design.md §3.2): objects whose names put them near the
/// window, grouped into hourly time shards, adjacent small hours of one UTC day joined and large
/// hours split so that tasks carry similar numbers of bytes.
///
/// The plan depends only on the listing and the window — never on the number of workers — so
/// every run of the same job merges the same partials in the same order. A task never spans two
/// UTC days and its size target is a power of two, so a later job over an overlapping window
/// cuts the days both cover into the same tasks: their cached partials serve it (§3.6).
public struct ReportPlan: Sendable {
    /// Events may be filed in a neighbouring object: objects whose name time lies within this
    /// much of the window are read too (their events are still filtered by event time).
    public static let slack: Int64 = 3600 * CivilTime.microsPerSecond

    /// The tasks, in merge order.
    public var tasks: [ReportTask]
    /// Objects the listing returned.
    public var objectsListed: Int
    /// Listed size of the objects the tasks read.
    public var bytes: Int64

    /// Objects the tasks read.
    public var objectsSelected: Int { tasks.reduce(0) { $0 + $1.objects.count } }

    /// Plans `objects` for `window`. `targetTaskBytes` defaults to the power of two at or below
    /// the size that gives 48 tasks, between 256 KiB and 256 MiB.
    public init(objects: [LogObject], window: ReportWindow, targetTaskBytes: Int64? = nil) {
        objectsListed = objects.count
        let low = window.from - Self.slack
        let high = window.to + Self.slack
        let selected = objects.filter { object in
            guard let t = object.nameTime else { return true }
            return t.start == t.end ? (t.start >= low && t.start < high) : (t.start < high && t.end > low)
        }
        bytes = selected.reduce(Int64(0)) { $0.saturatingAdd($1.size) }
        let target = targetTaskBytes ?? Self.defaultTarget(bytes: bytes)
        let hour = 3600 * CivilTime.microsPerSecond
        let hoursPerDay = CivilTime.microsPerDay / hour

        // Hourly groups in time order; undated objects form one group at the end.
        var groups: [(hour: Int64?, objects: [LogObject])] = []
        let dated = selected.filter { $0.nameTime != nil }.sorted {
            ($0.nameTime!.start, $0.name) < ($1.nameTime!.start, $1.name)
        }
        for object in dated {
            let h = Self.floorDiv(object.nameTime!.start, hour)
            if let last = groups.last, last.hour == h {
                groups[groups.count - 1].objects.append(object)
            } else {
                groups.append((h, [object]))
            }
        }
        let undated = selected.filter { $0.nameTime == nil }
        if !undated.isEmpty { groups.append((nil, undated)) }

        var tasks: [ReportTask] = []
        var current: [LogObject] = []
        var currentBytes: Int64 = 0
        var currentHours: (first: Int64, last: Int64)?
        func close() {
            guard !current.isEmpty else { return }
            let shard = currentHours.map { TimeShard(start: $0.first * hour, end: ($0.last + 1) * hour) }
            tasks.append(ReportTask(index: tasks.count, shard: shard, objects: current))
            current = []
            currentBytes = 0
            currentHours = nil
        }
        for group in groups {
            let groupBytes = group.objects.reduce(Int64(0)) { $0.saturatingAdd($1.size) }
            // Listed sizes come from the source's server: every sum saturates.
            // A new hour joins the open task only while the task stays under the target and in
            // the same UTC day; undated objects never share a task with dated ones.
            if currentBytes.saturatingAdd(groupBytes) > target || group.hour == nil
                || currentHours.map({ Self.floorDiv($0.first, hoursPerDay) != Self.floorDiv(group.hour!, hoursPerDay) }) == true
            {
                close()
            }
            for object in group.objects {
                if currentBytes.saturatingAdd(object.size) > target, !current.isEmpty { close() }
                current.append(object)
                currentBytes = currentBytes.saturatingAdd(object.size)
                if let h = group.hour {
                    currentHours = (currentHours?.first ?? h, h)
                }
            }
        }
        close()
        self.tasks = tasks
    }

    /// The power of two at or below `bytes / 48`, within 256 KiB...256 MiB: rounding down to a
    /// power of two keeps the target, and so the tasks, the same for windows of nearly the same
    /// size.
    static func defaultTarget(bytes: Int64) -> Int64 {
        let wanted = min(max(bytes / 48, 256 << 10), 256 << 20)
        return Int64(1) << (63 - wanted.leadingZeroBitCount)
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
