/// A request body of the API whose JSON object has exactly these keys (required and optional):
/// the coordinator refuses any other key, as the OpenAPI document says
/// (`additionalProperties: false`).
public protocol WireBody: Codable {
    /// Every key the body may have, in wire spelling (snake_case).
    static var wireKeys: Set<String> { get }
}

extension JobRequest: WireBody {
    public static let wireKeys: Set<String> = [
        "report", "source", "from", "to", "timezone", "max_malformed_share", "inactive_days",
        "lookback_days", "now", "users", "notify", "notify_emails",
    ]
}

extension LeaseRequest: WireBody {
    public static let wireKeys: Set<String> = ["worker", "protocol_version", "capabilities"]
}

extension FailureReport: WireBody {
    public static let wireKeys: Set<String> = ["reason", "permanent"]
}
