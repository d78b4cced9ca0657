/// A shared blob store that could not be read or written (after its retries): what was being
/// done, to which file, and why. Work that meets it is tried again later rather than failed.
struct BlobStoreError: Error, CustomStringConvertible {
    /// The operation and the file (`cannot publish jobs/j/result.csv to s3://…`).
    var what: String
    /// The underlying failure.
    var reason: String

    var description: String { "\(what): \(reason)" }
}
