/// The error body of every 4xx/5xx answer.
public struct APIErrorBody: Codable, Sendable, Equatable {
    /// What is wrong, in a sentence.
    public var error: String
    /// The request field at fault, when one is.
    public var field: String?

    /// An error body.
    public init(error: String, field: String? = nil) {
        self.error = error
        self.field = field
    }
}
