import Yams

/// The keys `tally.yaml` may hold, section by section, so that a key the coordinator does not
/// know is an error naming it and the nearest known key: a misspelt `result_ttl_day: 1` would
/// otherwise start a coordinator that keeps results 7 days, without a word.
package indirect enum ConfigurationKeys: Sendable {
    /// A value (number, text, list of values).
    case value
    /// A mapping with these keys.
    case section([String: ConfigurationKeys])
    /// A list of mappings of one shape.
    case list(ConfigurationKeys)

    /// A section whose keys are all values.
    package static func values<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type, except nested: [String: ConfigurationKeys] = [:])
        -> ConfigurationKeys
    {
        .section(Dictionary(uniqueKeysWithValues: keys.allCases.map { ($0.stringValue, nested[$0.stringValue] ?? .value) }))
    }

    /// Throws naming the first key of `text` (YAML) outside `self`; YAML that does not parse is
    /// left to the decoder, which says why.
    package func check(_ text: String, file: String) throws {
        guard let document = try? Yams.load(yaml: text) else { return }
        try check(document, path: "", file: file)
    }

    private func check(_ node: Any, path: String, file: String) throws {
        switch self {
        case .value:
            return
        case .list(let element):
            guard let items = node as? [Any] else { return }
            for (i, item) in items.enumerated() { try element.check(item, path: path + "[\(i)]", file: file) }
        case .section(let keys):
            guard let mapping = node as? [AnyHashable: Any] else { return }
            for key in mapping.keys.map({ "\($0.base)" }).sorted() {
                let at = path.isEmpty ? key : path + "." + key
                guard let shape = keys[key] else {
                    let nearest = Self.nearest(to: key, in: keys.keys)
                    throw ConfigurationError(
                        file: file, field: at,
                        reason: "unknown key"
                            + (nearest.map { "; did you mean '\(path.isEmpty ? $0 : path + "." + $0)'?" } ?? ""))
                }
                if let value = mapping.first(where: { "\($0.key.base)" == key })?.value { try shape.check(value, path: at, file: file) }
            }
        }
    }

    /// The known key closest to `key` by edit distance, when it is close enough to be a typo
    /// (at most a third of its length, and at least one edit).
    package static func nearest(to key: String, in known: some Sequence<String>) -> String? {
        let best = known.map { ($0, editDistance(key, $0)) }.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        guard let best, best.1 <= max(1, key.count / 3) else { return nil }
        return best.0
    }

    /// Levenshtein distance over characters.
    package static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
