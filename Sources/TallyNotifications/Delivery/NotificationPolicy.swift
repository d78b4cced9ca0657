/// Where and how job ends are announced (`notifications` in `tally.yaml`).
public struct NotificationPolicy: Sendable, Equatable {
    /// Targets by name; a job names the ones it wants.
    public var targets: [String: WebhookTarget] = [:]
    /// Pauses before the second, third, … attempt, in seconds (each with ±20 % jitter); when
    /// they are spent the delivery has failed.
    public var retrySeconds: [Double] = [5, 60, 300, 1800, 7200]
    /// How long one attempt may take.
    public var timeoutSeconds: Double = 15
    /// The relay job ends are mailed through; nil: no e-mail.
    public var email: EmailSettings?
    /// The coordinator's address as recipients reach it, for the result link (`public_url`).
    public var publicURL: String?

    public init() {}
}
