import Foundation

/// Turns a wall-clock time in a zone into an instant, with one documented rule for the two
/// times a wall clock gets wrong (docs/design.md §1.4):
///
/// - a time the clocks skip (spring forward: 02:30 on a day that jumps from 02:00 to 03:00) is
///   read on the offset in force before the change, so it lands as far past the change as it
///   was past the jump's start (02:30 → 03:30 local), as RFC 5545 and java.time do;
/// - a time the clocks show twice (fall back: 01:30 on a day that returns from 02:00 to
///   01:00) is the first of the two, on the offset before the change.
///
/// Offsets that are not whole hours (+05:30, +05:45) and shifts that are not an hour (Lord Howe's
/// 30 minutes) need nothing special: the zone's offsets are used as they are.
enum LocalTimeRule {
    enum Kind: Equatable {
        /// The time does not exist; the clocks skip this many seconds.
        case skipped(gapSeconds: Int64)
        /// The time exists twice; the first was used.
        case repeated
    }

    /// The instant (seconds since the epoch) of `wallSeconds` (the wall time's seconds as if it
    /// were UTC) in `zone`, and what was special about it.
    static func resolve(wallSeconds: Int64, in zone: TimeZone) -> (seconds: Int64, kind: Kind?) {
        func offset(at seconds: Int64) -> Int64 {
            Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        }
        // Offsets in force a day either side; a wall time is on one of them (zones change
        // offset at most once within two days).
        let before = offset(at: wallSeconds - 86_400)
        let after = offset(at: wallSeconds + 86_400)
        let candidates = Set([wallSeconds - before, wallSeconds - after]).filter { offset(at: $0) == wallSeconds - $0 }.sorted()
        switch candidates.count {
        case 0:
            return (wallSeconds - before, .skipped(gapSeconds: abs(after - before)))
        case 1:
            return (candidates[0], nil)
        default:
            return (candidates[0], .repeated)
        }
    }
}
