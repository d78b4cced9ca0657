import TallyClient
import TallyDeflate
import TallyProtocol
import TallyReport

/// Runs one merge task (docs/design.md §3.9): reads the blocks of every partial of the job that
/// hold the task's range of users, through the lease, merges them in plan order and writes the
/// range's CSV rows with the engine's row writer, the coordinator's own, compressed as a raw
/// DEFLATE segment. The slices are held in memory: the coordinator sizes ranges so that they
/// stay small (`merge_task_bytes`).
enum MergeTaskRunner {
    /// Slices read at once.
    static let concurrentReads = 4
    /// The largest slice or directory accepted from the coordinator.
    static let maximumSliceBytes = 1 << 30

    /// The range's rows and their count; nil when the lease was lost on the way.
    static func run(_ grant: LeaseGrant, merge: WireMergeTask, coordinator: WorkerProtocolClient) async throws -> (
        rows: [UInt8], count: Int
    )? {
        let range = try merge.userRange()
        let report = try merge.reportSpec(window: grant.window)
        guard (0...1_000_000).contains(merge.partials) else {
            throw WireFormatError(field: "merge.partials", reason: "\(merge.partials) partials")
        }
        let slices = try await withThrowingTaskGroup(of: (Int, PartialSlice?).self) { group in
            var slices = [PartialSlice?](repeating: nil, count: merge.partials)
            var next = 0
            func start() {
                let index = next
                next += 1
                group.addTask {
                    guard let (bytes, checksum) = try await coordinator.partialSlice(grant.leaseId, index: index, limit: maximumSliceBytes)
                    else { return (index, nil) }
                    return (index, try PartialSlice(bytes, checksum: checksum, range: range))
                }
            }
            while next < min(concurrentReads, merge.partials) { start() }
            while let (index, slice) = try await group.next() {
                guard let slice else {
                    group.cancelAll()
                    return [PartialSlice]?.none
                }
                slices[index] = slice
                if next < merge.partials { start() }
            }
            return slices.compactMap { $0 }
        }
        guard let slices else { return nil }
        var directory: UserDirectory? = nil
        if merge.directory == true {
            guard let bytes = try await coordinator.userDirectory(grant.leaseId, limit: maximumSliceBytes) else { return nil }
            directory = try UserDirectory(encoded: bytes)
        }
        // The rows compressed as they come, so the worker never holds the range's CSV, and
        // the coordinator joins the compressed ranges into the gzip copy as they are.
        var mergeOfSlices = try StreamingMerge(streams: slices)
        let deflater = try GzipDeflater(wrapper: .raw)
        var rows: [UInt8] = []
        let count = try ReportRows.write(&mergeOfSlices, report: report, directory: directory, range: range) { chunk in
            try chunk.withUnsafeBytes { input in try deflater.compress(input) { rows.append(contentsOf: $0) } }
        }
        try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), syncFlush: true) { rows.append(contentsOf: $0) }
        return (rows, count)
    }
}
