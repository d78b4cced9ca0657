/// Coordinator failures that are not a client's fault.
enum CoordinatorError: Error, CustomStringConvertible {
    /// The data directory could not be written or read.
    case storage(String)

    var description: String {
        switch self {
        case .storage(let reason): return reason
        }
    }
}
