import TallyProtocol

extension JobState {
    /// `('succeeded', 'failed', 'cancelled')`: the ended states as an SQL list, made from
    /// `isTerminal` so the store's queries and the model cannot disagree.
    package static let endedSQL = sqlList(allCases.filter(\.isTerminal))
    /// `('queued', 'running', 'merging')`: the states of jobs not yet ended.
    package static let unendedSQL = sqlList(allCases.filter { !$0.isTerminal })

    private static func sqlList(_ states: [JobState]) -> String {
        "(" + states.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
    }
}
