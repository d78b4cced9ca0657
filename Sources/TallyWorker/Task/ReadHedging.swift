import Synchronization

/// When a worker races a slow object read with a second request for the rest of the object
/// (a hedged request, after Dean and Barroso, "The Tail at Scale", CACM 2013), shared by all the
/// worker's tasks: a read is hedged once it runs `slowerThanTypical` times longer than the
/// worker's recent reads of its size (at least `floorSeconds`), and hedges stay within
/// `maxShare` of reads (plus `burst`), so a source that is slow for everyone is not asked twice
/// for everything. The stall and budget deadlines stay the backstop (docs/design.md §3.3).
public final class ReadHedging: Sendable {
    /// How many times the typical time a read may take before it is hedged.
    public let slowerThanTypical: Double
    /// The shortest wait before a hedge.
    public let floorSeconds: Double
    /// The wait before a hedge while too few reads were seen to know what is typical.
    public let unknownSeconds: Double
    /// Hedges per read at most, over the worker's life, plus `burst`.
    public let maxShare: Double
    public let burst: Int

    private struct State {
        /// Recent reads: seconds and bytes.
        var recent: [(seconds: Double, bytes: Int64)] = []
        var next = 0
        var reads = 0
        var hedges = 0
    }
    private let state = Mutex(State())
    /// Reads remembered for the typical time.
    static let window = 64
    /// Reads needed before the typical time is trusted.
    static let minimumSamples = 8

    public init(
        slowerThanTypical: Double = 4, floorSeconds: Double = 0.3, unknownSeconds: Double = 2, maxShare: Double = 0.05, burst: Int = 2
    ) {
        self.slowerThanTypical = slowerThanTypical
        self.floorSeconds = floorSeconds
        self.unknownSeconds = unknownSeconds
        self.maxShare = maxShare
        self.burst = burst
    }

    /// Seconds a read of `bytes` may take before it is hedged.
    func hedgeAfter(bytes: Int64) -> Double {
        state.withLock { state in
            guard state.recent.count >= Self.minimumSamples else { return unknownSeconds }
            let seconds = state.recent.map(\.seconds).sorted()[state.recent.count / 2]
            let size = state.recent.map(\.bytes).sorted()[state.recent.count / 2]
            let typical = seconds * max(1, Double(bytes) / Double(max(1, size)))
            return max(floorSeconds, slowerThanTypical * typical)
        }
    }

    /// Counts a read that ended in `seconds` (a hedged one too: its time is what it cost).
    func record(seconds: Double, bytes: Int64) {
        state.withLock { state in
            state.reads += 1
            if state.recent.count < Self.window {
                state.recent.append((seconds, bytes))
            } else {
                state.recent[state.next] = (seconds, bytes)
                state.next = (state.next + 1) % Self.window
            }
        }
    }

    /// Takes a hedge from the budget; false when the share is spent.
    func takeHedge() -> Bool {
        state.withLock { state in
            guard Double(state.hedges) < maxShare * Double(state.reads) + Double(burst) else { return false }
            state.hedges += 1
            return true
        }
    }

    /// Reads and hedges so far.
    public var counts: (reads: Int, hedges: Int) {
        state.withLock { ($0.reads, $0.hedges) }
    }
}
