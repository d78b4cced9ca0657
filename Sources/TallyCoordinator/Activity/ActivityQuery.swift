/// Which rows an activity export wants: one named log, optionally one user and a time range
/// (`_timestamp` within `[from, to)`, microseconds since the epoch).
struct ActivityQuery: Sendable, Equatable {
    var log: String
    var user: String?
    var from: Int64?
    var to: Int64?
    /// Only rows of this operation (`create_job`, …).
    var operation: String? = nil
}
