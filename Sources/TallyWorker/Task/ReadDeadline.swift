import TallyServices
import TallySources

/// Cuts a read that stops making progress, or that runs past its budget, with a transient
/// `SourceError` (so it is retried), whatever the transport's own timeouts: a body that trickles
/// a byte at a time keeps a connection's idle timer happy forever.
enum ReadDeadline {
    /// Runs `read` (which must call `Deadline.Progress.mark` on every chunk) under `Deadline`,
    /// which cuts it when no chunk came for `stallSeconds` or `budgetSeconds` passed.
    static func enforce(
        on object: String, stallSeconds: Double, budgetSeconds: Double,
        _ read: @escaping @Sendable (_ progress: Deadline.Progress) async throws -> Void
    ) async throws {
        let progress = Deadline.Progress()
        try await Deadline.run(
            seconds: budgetSeconds, stall: (stallSeconds, progress),
            expired: { cut in
                switch cut {
                case .stall: SourceError(.unreachable, location: object, detail: "no data for \(stallSeconds) s; read cut")
                case .budget: SourceError(.unreachable, location: object, detail: "read ran past its \(Int(budgetSeconds)) s budget; cut")
                }
            }
        ) { try await read(progress) }
    }
}
