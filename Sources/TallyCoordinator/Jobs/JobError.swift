/// A job operation refused, in the domain's words: what is wrong and the field it is about. Each
/// door says it its own way (the API a 4xx with a JSON reason; the Generate page next to its
/// field; the schedule runner in its log), with the same message.
struct JobError: Error, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The request itself is wrong (an unknown source, a bad window, …).
        case invalid
        /// The user has as many jobs queued or running as allowed.
        case tooManyActive
        /// The idempotency key was used for another request.
        case keyReused
        /// No such job, or one the user may not see (answered alike).
        case notFound
        /// The job's state does not allow it (cancelling an ended job, the result of one that has
        /// not succeeded).
        case wrongState
        /// The job's result was removed after `result_ttl_days`.
        case resultExpired
    }

    var kind: Kind
    var reason: String
    /// The request field at fault (`source`, `notify[2]`, `id`), when there is one.
    var field: String?

    static func invalid(_ reason: String, field: String?) -> JobError {
        JobError(kind: .invalid, reason: reason, field: field)
    }

    var description: String { reason }
}
