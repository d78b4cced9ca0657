/// Where the coordinator keeps its state (`store:` in `tally.yaml`): SQLite files in the data
/// directory, the embedded default that needs nothing set up; or a PostgreSQL database that any
/// number of coordinator replicas share (docs/operations.md, "Several coordinators").
public enum StoreLocation: Sendable, Equatable {
    case sqlite
    /// `url` is `postgres://USER@HOST:PORT/DATABASE[?schema=NAME&sslmode=…]`; the password is
    /// `passwordFile`'s first line.
    case postgres(url: String, passwordFile: String?)

    /// Whether several replicas may share it.
    public var isShared: Bool {
        if case .postgres = self { return true }
        return false
    }
}
