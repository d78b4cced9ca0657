/// A command that could not complete, with the reason shown to the user.
struct JobError: Error, CustomStringConvertible {
    /// What went wrong, in one sentence.
    var reason: String
    var description: String { reason }
}
