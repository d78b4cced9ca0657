import Foundation

/// One notification of a job's end to one target, as the store keeps it.
package struct Delivery: Sendable, Equatable {
    package var id: Int64
    package var jobId: String
    package var target: String
    /// The `webhook-id`: the same on every attempt of this delivery.
    package var messageId: String
    /// `pending`, `delivered`, `failed` or `stopped`.
    package var state: String
    package var attempts: Int
    package var lastStatus: Int?
    package var lastError: String?
    /// When the next attempt is due, seconds since the epoch.
    package var nextAt: Double?

    /// A value with every field given.
    package init(
        id: Int64, jobId: String, target: String, messageId: String, state: String, attempts: Int, lastStatus: Int? = nil,
        lastError: String? = nil, nextAt: Double? = nil
    ) {
        self.id = id
        self.jobId = jobId
        self.target = target
        self.messageId = messageId
        self.state = state
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.nextAt = nextAt
    }

    /// The target of a delivery by e-mail: this prefix and the address.
    package static let emailTarget = "email:"

    /// A new `webhook-id`: `msg_` and 32 lowercase hex digits, random.
    package static func newMessageId() -> String {
        "msg_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }
}
