/// A value a peer sent that this side cannot use, naming its field.
public struct WireFormatError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The field, as the JSON names it.
    public var field: String
    /// What is wrong with it.
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}
