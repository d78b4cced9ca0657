/// Why a request to the coordinator did not give the answer asked for.
public enum ClientError: Error, CustomStringConvertible, Sendable {
    /// The coordinator could not be reached (refused, reset, timed out).
    case unreachable(url: String, detail: String)
    /// The coordinator answered with a status the call does not accept, and its reason.
    case refused(status: Int, reason: String)
    /// The answer could not be understood.
    case invalidAnswer(String)
    /// The client's own settings cannot be used (an unreadable CA file).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .unreachable(let url, let detail): return "cannot reach the coordinator at \(url): \(detail)"
        case .refused(let status, let reason): return "coordinator answered \(status): \(reason)"
        case .invalidAnswer(let detail): return "the coordinator's answer could not be read: \(detail)"
        case .invalidConfiguration(let detail): return detail
        }
    }
}
