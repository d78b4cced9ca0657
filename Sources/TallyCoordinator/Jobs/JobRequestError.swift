/// A job request refused, in the domain's words: what is wrong and the field it is about. Each
/// door says it its own way (the API a `400`, `409` or `429` with a JSON reason; the Generate page
/// next to its field; the schedule runner in its log), with the same message.
struct JobRequestError: Error, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The request itself is wrong (an unknown source, a bad window, …).
        case invalid
        /// The user has as many jobs queued or running as allowed.
        case tooManyActive
        /// The idempotency key was used for another request.
        case keyReused
    }

    var kind: Kind
    var reason: String
    /// The request field at fault (`source`, `notify[2]`), when there is one.
    var field: String?

    static func invalid(_ reason: String, field: String?) -> JobRequestError {
        JobRequestError(kind: .invalid, reason: reason, field: field)
    }

    var description: String { reason }
}
