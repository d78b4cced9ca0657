/// One notification of a job's end to one target, as the store keeps it.
struct Delivery: Sendable, Equatable {
    var id: Int64
    var jobId: String
    var target: String
    /// The `webhook-id`: the same on every attempt of this delivery.
    var messageId: String
    /// `pending`, `delivered`, `failed` or `stopped`.
    var state: String
    var attempts: Int
    var lastStatus: Int?
    var lastError: String?
    /// When the next attempt is due, seconds since the epoch.
    var nextAt: Double?
}
