/// The worker protocol (version 2), spoken over `/v1/worker/…`. Version 2 changed what a
/// partial is (format 4: rows keyed by user, Resource, or both, as the grant's `report` says), so
/// a version 1 worker is refused at its first lease request rather than failing every upload:
///
/// 1. `POST /v1/worker/lease` with a `LeaseRequest` → `200` `LeaseGrant`, or `204` when there
///    is no work (retry after a pause).
/// 2. While running, `POST /v1/worker/leases/{lease_id}/heartbeat` at least every
///    `heartbeat_seconds` → `HeartbeatReply`; `action: stop` (job cancelled, lease lost) means
///    abandon the task. `410` means the lease is gone.
/// 3. `PUT /v1/worker/leases/{lease_id}/partial` with the partial's bytes
///    (`application/octet-stream`; the bytes carry their own CRC32C) → `UploadReply`. Only the
///    current lease holder's first upload commits; a repeated upload is acknowledged and ignored;
///    a lease that expired answers `409`.
/// 4. Or `POST /v1/worker/leases/{lease_id}/failure` with a `FailureReport`.
///
/// Merge extension (docs/design.md §3.9), for workers whose `LeaseRequest` lists
/// `mergeCapability` and whose token is trusted: a grant with `merge` set is a merge task.
///
/// 5. `GET /v1/worker/leases/{lease_id}/partials/{index}` → the bytes of partial `index` that
///    hold the task's range (`PartialSlice`), with their CRC-32C in `sliceChecksumHeader`.
/// 6. `GET /v1/worker/leases/{lease_id}/directory` → the job's user directory (inactive-users
///    or resource-access with a directory).
/// 7. `PUT /v1/worker/leases/{lease_id}/rows` with the range's CSV rows (no header line) as a
///    raw DEFLATE stream ended by a sync flush (`application/octet-stream`; the coordinator joins
///    the ranges' streams into the result's gzip copy) and their count in `rowsHeader` →
///    `UploadReply`, committed like a partial.
public enum WorkerProtocol {
    /// Version spoken by this build.
    public static let version = 2
    /// Header of a partial upload: how many times reading the task's objects was retried
    /// (optional; counted in the job's statistics and the coordinator's metrics).
    public static let sourceRetriesHeader = "Tally-Source-Retries"
    /// The capability of workers that run merge tasks.
    public static let mergeCapability = "merge-ranges"
    /// Header of a partial slice: its CRC-32C, decimal.
    public static let sliceChecksumHeader = "Tally-Slice-CRC32C"
    /// Header of a rows upload: the number of rows.
    public static let rowsHeader = "Tally-Rows"
}
