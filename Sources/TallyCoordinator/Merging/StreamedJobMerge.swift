import Foundation
import Synchronization
import TallyReport
import TallyStore

/// A job's final merge as a stream from its partial files (docs/design.md §3.8): one block and
/// one user of each partial in memory, rows written as they come. With more than one range, the
/// key space is split at the partials' index keys and the ranges are merged at once on as many
/// threads, each into a file of its own, then joined in order into the result and its gzip copy.
enum StreamedJobMerge {
    /// Merges the job from its partials, opened; the result's size, its rows and the summed
    /// statistics.
    static func run(
        _ job: JobRecord, survey opened: PartialSurvey, partials: [String], files: DataDirectory, ceiling: Double?,
        ranges wanted: Int
    ) throws -> (Int64, Int, ReadStatistics) {
        var survey = opened
        let statistics = survey.statistics
        if let ceiling, let excess = MalformedCeiling.excess(statistics, ceiling: ceiling) { throw excess }
        let directory = job.definition.report.directory != nil ? try MergePipeline.directory(of: job.id, in: files) : nil
        let writer = try ResultWriter(files: files, jobId: job.id)
        try writer.append(ReportRows.header(of: job.definition.report.kind))
        let ranges = wanted > 1 ? UserKeyRange.split(samples: survey.keys, into: wanted) : [.all]
        let rows: Int
        if ranges.count == 1 {
            var merge = try StreamingMerge(streams: survey.streams)
            rows = try ReportRows.write(&merge, report: job.definition.report, directory: directory, range: .all, emit: writer.append)
        } else {
            survey.streams.removeAll()  // each range opens its own
            rows = try Self.mergeRanges(ranges, of: job, partials: partials, files: files, directory: directory, into: writer)
        }
        try writer.finish()
        return (writer.bytes, rows, statistics)
    }

    /// Merges each range into a part file on its own thread, then appends the parts in order.
    private static func mergeRanges(
        _ ranges: [UserKeyRange], of job: JobRecord, partials: [String], files: DataDirectory, directory: UserDirectory?,
        into writer: ResultWriter
    ) throws -> Int {
        // Names of this merge's own: a deposed leader still merging the job never writes over the parts of the new one's.
        let attempt = UUID().uuidString
        let parts = ranges.indices.map { files.resultPath(job.id) + ".range-\($0)-\(attempt)" }
        defer { for part in parts { try? FileManager.default.removeItem(atPath: part) } }
        let outcomes = Mutex([Result<Int, any Error>?](repeating: nil, count: ranges.count))
        DispatchQueue.concurrentPerform(iterations: ranges.count) { r in
            let outcome = Result { () throws -> Int in
                var streams: [IndexedPartialStream] = []
                for (index, path) in partials.enumerated() {
                    do {
                        let stream = try PartialUserStream(try PartialFile(path: path), range: ranges[r], verify: false)
                        streams.append(IndexedPartialStream(index: index, path: path, stream: stream))
                    } catch {
                        throw UnusablePartial(index: index, reason: "its file \(path) cannot be read: \(error)")
                    }
                }
                var merge = try StreamingMerge(streams: streams)
                guard FileManager.default.createFile(atPath: parts[r], contents: nil), let part = FileHandle(forWritingAtPath: parts[r])
                else { throw CoordinatorError.storage("cannot create \(parts[r])") }
                defer { try? part.close() }
                return try ReportRows.write(&merge, report: job.definition.report, directory: directory, range: ranges[r]) {
                    try part.write(contentsOf: $0)
                }
            }
            outcomes.withLock { $0[r] = outcome }
        }
        var rows = 0
        for (r, outcome) in outcomes.withLock({ $0 }).enumerated() {
            rows += try outcome!.get()
            try writer.append(contentsOf: parts[r])
        }
        return rows
    }
}
