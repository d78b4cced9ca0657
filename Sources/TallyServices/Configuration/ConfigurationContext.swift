import Foundation

/// What a part needs to check its own section of `tally.yaml` (docs/operations.md): the file's
/// name for errors, range checks, and secrets kept in files of their own. Each part parses its
/// section next to its code; the coordinator's configuration only puts the sections together.
package struct ConfigurationContext: Sendable {
    /// The file being read, named in every error.
    package let file: String

    package init(file: String) {
        self.file = file
    }

    /// An error about `field`.
    package func error(_ field: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(file: file, field: field, reason: reason)
    }

    /// `value` when it is in `range`; an error naming `field` when it is not.
    package func checked(_ value: Double?, _ field: String, _ range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let value else { return nil }
        guard range.contains(value) else {
            throw error(field, "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    /// A secret kept in a file of its own (its line end dropped), so tally.yaml holds none.
    package func secret(in path: String, _ field: String) throws(ConfigurationError) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw error(field, "cannot read \(path)")
        }
        return text.trimmingCharacters(in: .newlines)
    }
}
