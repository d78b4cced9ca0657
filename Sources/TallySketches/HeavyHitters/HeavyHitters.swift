/// A mergeable Misra–Gries summary of the most frequent keys (Agarwal et al., "Mergeable
/// Summaries", PODS 2012), e.g. the top client IPs of one user.
///
/// Counts are kept exactly in a dictionary until it holds more than `2 × capacity` keys; then the
/// summary *reduces*: with t the (capacity + 1)-th largest count, it subtracts t from every
/// counter and drops those that reach zero, leaving at most `capacity` counters. Adds and merges
/// apply the same rule, so adding is amortized O(1) (a reduction costs O(capacity) and frees room
/// for capacity + 1 new keys) and the summary is exact until more than `2 × capacity` distinct keys
/// have been seen (4096 by default, the same threshold as `DistinctCounter.exactLimit`). A
/// reduction depends only on the multiset of (key, count) pairs, never on dictionary order.
///
/// ## Error bound
///
/// Let N be `total` (every count ever added or merged in) and S the sum of the retained
/// counters. A reduction with threshold t lowers each counter by at most t, and lowers S by at
/// least (capacity + 1) · t, since the capacity + 1 largest counters are all at least t. Adds raise
/// N and S equally, and a merge adds both summaries' N and S. So for every key the undercount,
/// an integer, is at most the sum of the thresholds it went through, at most (N − S) / (capacity + 1),
/// hence at most `errorBound` = ⌊(N − S) / (capacity + 1)⌋. Every reported count c' of a key with
/// true count c satisfies `c − errorBound ≤ c' ≤ c`, and a key with no counter has
/// `c ≤ errorBound`. A merge adopts the smaller of the two capacities, because a summary reduced at
/// a smaller capacity only honours the bound for that capacity.
///
/// Counts saturate at `UInt64.max` instead of trapping; the bound assumes no saturation, which
/// needs 2^64 events.
public struct HeavyHitters<Key: Hashable & Sendable>: Sendable {
    /// The default number of counters kept after a reduction.
    public static var defaultCapacity: Int { 2048 }

    /// The largest capacity accepted, by the initializer and by decoding.
    public static var maximumCapacity: Int { 1 << 20 }

    /// Number of counters kept after a reduction; reductions start above twice this many.
    public var capacity: Int { storedCapacity }

    /// Backing store of `capacity`.
    @usableFromInline var storedCapacity: Int

    // The mutable state is internal and `@usableFromInline` so that `add`, the per-event hot path,
    // can be `@inlinable` and get specialized for the caller's key type; an unspecialized generic
    // call costs several times the dictionary update itself. Read-only views follow.

    /// Backing store of `counters`.
    @usableFromInline var storedCounters: [Key: UInt64]

    /// Backing store of `total`.
    @usableFromInline var storedTotal: UInt64

    /// S: the sum of `counters`, kept so `errorBound` is O(1).
    @usableFromInline var retained: UInt64

    /// The retained counters: a key's reported count, at most `errorBound` below its true count.
    public var counters: [Key: UInt64] { storedCounters }

    /// Roughly the heap bytes it holds: its table, at twice the entries' size for the hash
    /// table's slack and the keys' own storage.
    public var storageBytes: Int { storedCounters.capacity * (MemoryLayout<Key>.stride + MemoryLayout<UInt64>.stride) * 2 }

    /// N: the sum of all counts ever added or merged in.
    public var total: UInt64 { storedTotal }

    /// Creates an empty summary.
    ///
    /// - Parameter capacity: Counters kept after a reduction, in `1...maximumCapacity` (other
    ///   values are a programming error and trap).
    public init(capacity: Int = HeavyHitters.defaultCapacity) {
        precondition(capacity >= 1 && capacity <= Self.maximumCapacity, "HeavyHitters capacity out of range")
        self.storedCapacity = capacity
        self.storedCounters = [:]
        self.storedTotal = 0
        self.retained = 0
    }

    /// Builds a summary from decoded, validated parts.
    @usableFromInline
    init(capacity: Int, counters: [Key: UInt64], total: UInt64, retained: UInt64) {
        self.storedCapacity = capacity
        self.storedCounters = counters
        self.storedTotal = total
        self.retained = retained
    }

    /// The largest amount by which any reported count can be below the true count (see the type
    /// documentation for why); 0 while the summary is exact.
    public var errorBound: UInt64 {
        (total >= retained ? total - retained : 0) / UInt64(capacity + 1)
    }

    /// Whether every count is exact: nothing has been subtracted by a reduction.
    public var isExact: Bool { retained == total }

    /// Whether the summary is as `init()` makes it: nothing counted, the default capacity.
    public var isUntouched: Bool { storedTotal == 0 && storedCounters.isEmpty && storedCapacity == Self.defaultCapacity }

    /// Counts `count` occurrences of `key`.
    @inlinable
    public mutating func add(_ key: Key, count: UInt64 = 1) {
        guard count > 0 else { return }
        storedCounters[key, default: 0].addSaturating(count)
        retained.addSaturating(count)
        storedTotal.addSaturating(count)
        if storedCounters.count > 2 * capacity { reduce() }
    }

    /// Adds everything `other` counted: afterwards `self` summarizes the combined stream, with the
    /// smaller of the two capacities.
    ///
    /// Inlinable, so it is specialized for the caller's key type: the coordinator merges one
    /// summary per user per partial, and unspecialized dictionary merging (runtime generic
    /// metadata for every step) was a fifth of its time.
    @inlinable
    public mutating func merge(_ other: HeavyHitters) {
        for (key, count) in other.storedCounters {
            storedCounters[key, default: 0].addSaturating(count)
        }
        absorb(capacity: other.storedCapacity, retained: other.retained, total: other.storedTotal)
    }

    /// Ends a merge whose counts were added: the other summary's capacity, retained sum and total.
    @inlinable
    mutating func absorb(capacity otherCapacity: Int, retained otherRetained: UInt64, total otherTotal: UInt64) {
        storedCapacity = min(storedCapacity, otherCapacity)
        retained.addSaturating(otherRetained)
        storedTotal.addSaturating(otherTotal)
        if storedCounters.count > 2 * capacity { reduce() }
    }

    /// The `n` keys with the highest counts, highest first.
    ///
    /// - Parameters:
    ///   - n: How many entries to return at most.
    ///   - areInIncreasingOrder: Orders keys with equal counts (e.g. byte order of IP text); it
    ///     must be a strict total order on the keys for the result to be deterministic.
    /// - Returns: Up to `n` (key, count) pairs. Uses a bounded heap, O(k log n) for k counters,
    ///   rather than sorting every counter.
    public func top(_ n: Int, by areInIncreasingOrder: (Key, Key) -> Bool) -> [(key: Key, count: UInt64)] {
        guard n > 0, !counters.isEmpty else { return [] }
        typealias Entry = (key: Key, count: UInt64)
        // Whether `a` ranks strictly before `b` in the result.
        func ranksBefore(_ a: Entry, _ b: Entry) -> Bool {
            a.count != b.count ? a.count > b.count : areInIncreasingOrder(a.key, b.key)
        }
        if counters.count / 2 <= n {
            var all = counters.map { Entry(key: $0.key, count: $0.value) }
            all.sort(by: ranksBefore)
            return Array(all.prefix(n))
        }
        // A heap of the best n entries so far, whose root is the worst of them: each further
        // entry only needs comparing with the root.
        var heap: [Entry] = []
        heap.reserveCapacity(n)
        for (key, count) in counters {
            let entry = Entry(key: key, count: count)
            if heap.count < n {
                heap.append(entry)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard ranksBefore(heap[parent], heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if ranksBefore(entry, heap[0]) {
                heap[0] = entry
                var parent = 0
                while true {
                    var worst = parent
                    let left = 2 * parent + 1
                    let right = left + 1
                    if left < n && ranksBefore(heap[worst], heap[left]) { worst = left }
                    if right < n && ranksBefore(heap[worst], heap[right]) { worst = right }
                    if worst == parent { break }
                    heap.swapAt(parent, worst)
                    parent = worst
                }
            }
        }
        heap.sort(by: ranksBefore)
        return heap
    }

    /// The same summary with every key transformed, e.g. interned ids back to IP text.
    ///
    /// Keys that map to the same new key have their counts added. `total`, the retained sum and
    /// so `errorBound` are unchanged; the bound stays per original key, so a merged key's count
    /// can be low by up to `errorBound` times the number of keys merged into it.
    public func mapKeys<NewKey: Hashable & Sendable>(
        _ transform: (Key) throws -> NewKey
    ) rethrows -> HeavyHitters<NewKey> {
        var mapped = [NewKey: UInt64](minimumCapacity: counters.count)
        for (key, count) in counters {
            mapped[try transform(key), default: 0].addSaturating(count)
        }
        return HeavyHitters<NewKey>(capacity: capacity, counters: mapped, total: total, retained: retained)
    }

    /// Subtracts the (capacity + 1)-th largest count from every counter and drops those that reach
    /// zero, leaving at most `capacity` counters.
    @inlinable
    mutating func reduce() {
        var counts = Array(storedCounters.values)
        let threshold = KthLargest.select(capacity + 1, in: &counts)
        // Reserved for the next 2 × capacity keys so the dictionary never regrows between reductions.
        var kept = [Key: UInt64](minimumCapacity: 2 * capacity + 1)
        var keptSum: UInt64 = 0
        for (key, count) in storedCounters where count > threshold {
            kept[key] = count - threshold
            keptSum.addSaturating(count - threshold)
        }
        storedCounters = kept
        retained = keptSum
    }
}

extension HeavyHitters where Key: Comparable {
    /// The `n` keys with the highest counts, highest first, ties broken by ascending key.
    public func top(_ n: Int) -> [(key: Key, count: UInt64)] {
        top(n, by: <)
    }
}

/// Equal when capacity, total and every counter are equal (dictionary order is irrelevant).
extension HeavyHitters: Equatable {}

extension UInt64 {
    /// Adds `other`, clamping at `UInt64.max` instead of trapping on overflow.
    @inlinable
    mutating func addSaturating(_ other: UInt64) {
        let (sum, overflow) = addingReportingOverflow(other)
        self = overflow ? .max : sum
    }
}
