/// Where the coordinator keeps its files — partials, merge ranges, results, shard-cache entries
/// and user directories (`blobs:` in `tally.yaml`): the data directory, the default; or a folder
/// of an S3-compatible bucket that every replica reads and writes, each keeping local copies in
/// its own data directory (docs/design.md §3.11).
public enum BlobLocation: Sendable, Equatable {
    case local
    /// `url` is `s3://BUCKET/PREFIX/`; credentials come from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), as for S3 sources.
    case s3(url: String, region: String?, endpoint: String?)

    /// Whether replicas with data directories of their own see the same files.
    public var isShared: Bool {
        if case .s3 = self { return true }
        return false
    }
}
