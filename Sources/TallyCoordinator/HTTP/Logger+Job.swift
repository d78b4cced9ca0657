import Logging

extension Logger {
    /// This logger with the job id attached to every line.
    func with(job: String) -> Logger {
        var copy = self
        copy[metadataKey: "job"] = "\(job)"
        return copy
    }
}
