/// Which rows an activity export wants: one named log, optionally one user and a time range
/// (`_timestamp` within `[from, to)`, microseconds since the epoch).
package struct ActivityQuery: Sendable, Equatable {
    package var log: String
    package var user: String?
    package var from: Int64?
    package var to: Int64?
    /// Only rows of this operation (`create_job`, …).
    package var operation: String? = nil

    /// A value with every field given.
    package init(log: String, user: String? = nil, from: Int64? = nil, to: Int64? = nil, operation: String? = nil) {
        self.log = log
        self.user = user
        self.from = from
        self.to = to
        self.operation = operation
    }
}
