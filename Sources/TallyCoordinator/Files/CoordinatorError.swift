/// Coordinator failures that are not a client's fault.
enum CoordinatorError: Error, CustomStringConvertible {
    /// The data directory could not be written or read.
    case storage(String)
    /// The configuration would expose the coordinator without authentication.
    case unsafe(String)

    var description: String {
        switch self {
        case .storage(let reason), .unsafe(let reason): return reason
        }
    }
}
