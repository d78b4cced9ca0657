/// A configuration file that cannot be used, naming the file and field.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The file.
    public var file: String
    /// The field at fault, as a path (`sources[0].kind`).
    public var field: String?
    /// What is wrong.
    public var reason: String

    /// An error about `field` of `file`.
    public init(file: String, field: String?, reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(file): " + (field.map { "\($0): " } ?? "") + reason }
}
