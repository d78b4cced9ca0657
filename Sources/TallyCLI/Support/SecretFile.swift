import ArgumentParser
import Foundation

/// A secret kept in a file (`--token-file`, `--secret-file`): its first line, trimmed.
enum SecretFile {
    static func read(_ path: String, option: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let line = text.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }), !line.isEmpty
        else { throw ValidationError("\(option) \(path): cannot read a secret from it") }
        return line
    }
}
