import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TallyDeflate
import TallyProtocol
import TallyReport
import TallySketches
import Testing

@testable import TallyCoordinator

/// Merge tasks (docs/design.md §3.9) through the worker protocol, driven in process on the
/// manual clock: a merging job's ranges go only to workers that announce the capability, a
/// worker reads its range's slices and uploads rows, a lease that expired commits nothing, and
/// the joined result is the expected report.
@Suite struct MergeTaskTests {
    /// Every job merged by the workers.
    static func mergingOnWorkers(_ configuration: inout CoordinatorConfiguration) {
        configuration.mergeOnWorkersFromBytes = 0
    }

    func leaseAsMergeWorker(_ client: any TestClientProtocol, _ worker: String) async throws -> LeaseGrant? {
        let body = json(#"{"worker":"\#(worker)","protocol_version":\#(WorkerProtocol.version),"capabilities":["merge-ranges"]}"#)
        let response = try await client.execute(uri: "/v1/worker/lease", method: .post, headers: jsonHeaders, body: body)
        if response.status == .noContent { return nil }
        #expect(response.status == .ok, "body: \(response.text)")
        return try response.decode(LeaseGrant.self)
    }

    /// Submits the fixture's job and computes its aggregation tasks as merge worker m1 (each
    /// grant an aggregation task), then lets the coordinator take the job's last commit.
    func aggregateAsMergeWorker(_ client: any TestClientProtocol, _ coordinator: Coordinator) async throws -> JobStatus {
        let job = try await submit(client)
        await coordinator.runOnce()
        while let grant = try await leaseAsMergeWorker(client, "m1") {
            #expect(grant.merge == nil)
            try await expectUpload(client, grant.leaseId, try await partialBytes(for: grant), committed: true)
        }
        await coordinator.runOnce()
        return job
    }

    /// What a worker's merge task computes: the slices read through the lease, merged, written
    /// as rows by the engine.
    func rows(of grant: LeaseGrant, _ client: any TestClientProtocol) async throws -> (rows: [UInt8], count: Int) {
        let merge = try #require(grant.merge)
        let range = try merge.userRange()
        var slices: [PartialSlice] = []
        for index in 0..<merge.partials {
            let response = try await client.execute(uri: "/v1/worker/leases/\(grant.leaseId)/partials/\(index)", method: .get)
            #expect(response.status == .ok, "body: \(response.text)")
            let value = response.headers[HTTPField.Name(WorkerProtocol.sliceChecksumHeader)!]
            let checksum = try #require(value.flatMap { UInt32($0) })
            slices.append(try PartialSlice(Array(response.body.readableBytesView), checksum: checksum, range: range))
        }
        var mergeOfSlices = try StreamingMerge(streams: slices)
        var csv: [UInt8] = []
        let count = try ReportRows.write(
            &mergeOfSlices, report: try merge.reportSpec(window: grant.window), directory: nil, range: range
        ) { csv += $0 }
        return (Self.segment(csv), count)
    }

    /// Rows as a worker uploads them: a raw DEFLATE segment ended by a sync flush.
    static func segment(_ csv: [UInt8]) -> [UInt8] {
        let deflater = try! GzipDeflater(wrapper: .raw)
        var out: [UInt8] = []
        try! csv.withUnsafeBytes { try deflater.compress($0, syncFlush: true) { out.append(contentsOf: $0) } }
        return out
    }

    func uploadRows(_ client: any TestClientProtocol, _ leaseId: String, _ rows: [UInt8], count: String) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[HTTPField.Name(WorkerProtocol.rowsHeader)!] = count
        return try await client.execute(
            uri: "/v1/worker/leases/\(leaseId)/rows", method: .put, headers: headers, body: ByteBuffer(bytes: rows))
    }

    @Test func aMergeTaskWhoseLeaseExpiredIsDoneByAnotherWorkerAndTheResultIsTheReport() async throws {
        let fixture = try Fixture(leaseSeconds: 10)
        let coordinator = try fixture.coordinator(Self.mergingOnWorkers)
        try await withClient(coordinator) { client in
            let job = try await aggregateAsMergeWorker(client, coordinator)
            #expect(try await getJob(client, job.id).state == .merging)
            // A worker that does not announce the capability is given no merge task.
            #expect(try await lease(client, worker: "old") == nil)
            let first = try #require(try await leaseAsMergeWorker(client, "m1"))
            let merge = try #require(first.merge)
            #expect(merge.partials == ExpectedReport.tasks && merge.report == "active-users")
            #expect(first.task.objects.isEmpty)
            // What the supervision reads at every pass: the job's ranges alone.
            let ranges = try await coordinator.store.mergeTasks(of: job.id)
            #expect(!ranges.isEmpty && ranges.allSatisfy { $0.mergeRange != nil })
            #expect(ranges.map(\.index) == (try await coordinator.store.tasks(of: job.id)).filter { $0.mergeRange != nil }.map(\.index))
            let (rows, count) = try await rows(of: first, client)

            // m1 goes quiet past its lease: the range goes to m2.
            fixture.clock.advance(by: 11)
            await coordinator.runOnce()
            let second = try #require(try await leaseAsMergeWorker(client, "m2"))
            #expect(second.merge == first.merge)
            // m1's late rows and reads are refused; only the lease holder commits.
            #expect(try await uploadRows(client, first.leaseId, rows, count: "\(count)").status == .conflict)
            #expect(try await client.execute(uri: "/v1/worker/leases/\(first.leaseId)/partials/0", method: .get).status == .conflict)
            // Rows that are not what they claim are refused, and the lease keeps its task.
            #expect(try await uploadRows(client, second.leaseId, rows, count: "\(count + 1)").status == .badRequest)
            #expect(try await uploadRows(client, second.leaseId, Self.segment(Array("a,b\n".utf8)), count: "1").status == .badRequest)
            #expect(try await uploadRows(client, second.leaseId, Array("not deflate".utf8), count: "0").status == .badRequest)
            let accepted = try await uploadRows(client, second.leaseId, try await self.rows(of: second, client).rows, count: "\(count)")
            #expect(accepted.status == .ok)
            #expect(try accepted.decode(UploadReply.self).committed)
            #expect(try await leaseAsMergeWorker(client, "m3") == nil)

            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded && done.users == ExpectedReport.users)
            let result = try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get)
            #expect(Array(result.body.readableBytesView) == ExpectedReport.csv)
            let gzipped = try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get, headers: [.acceptEncoding: "gzip"])
            #expect(try gunzip(Array(gzipped.body.readableBytesView)) == ExpectedReport.csv)
            // The page's summary, added up from the ranges' summaries, is the whole CSV's.
            let summary = try JSONDecoder().decode(
                ReportSummary.self, from: try Data(contentsOf: URL(fileURLWithPath: coordinator.files.summaryPath(job.id))))
            #expect(summary == ReportSummary(csv: ExpectedReport.csv) && summary.rows == Int64(ExpectedReport.users))
        }
    }

    /// The merge workers go away after the merge was planned (none asks for work for six lease
    /// periods): the merge tasks are dropped and the coordinator merges the job itself.
    @Test func aMergeWhoseWorkersAreGoneIsMergedByTheCoordinator() async throws {
        let fixture = try Fixture(leaseSeconds: 10)
        let coordinator = try fixture.coordinator(Self.mergingOnWorkers)
        try await withClient(coordinator) { client in
            let job = try await aggregateAsMergeWorker(client, coordinator)
            #expect(try await getJob(client, job.id).state == .merging)
            fixture.clock.advance(by: 30)
            await coordinator.runOnce()
            #expect(try await getJob(client, job.id).state == .merging, "two lease periods are not enough to give up")
            fixture.clock.advance(by: 31)
            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded && done.users == ExpectedReport.users)
            let result = try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get)
            #expect(Array(result.body.readableBytesView) == ExpectedReport.csv)
            #expect(try await leaseAsMergeWorker(client, "m1") == nil)
        }
    }

    @Test func aSmallJobIsMergedByTheCoordinator() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let job = try await aggregateAsMergeWorker(client, coordinator)
            // Its partials are far under merge_on_workers_from_bytes: no merge task.
            #expect(try await getJob(client, job.id).state == .succeeded)
            #expect(try await leaseAsMergeWorker(client, "m1") == nil)
        }
    }

    @Test func theRangesAreBoundedBySizeWorkersAndSixtyFour() throws {
        let keys = (0..<10_000).map { Array("user\(100_000 + $0)@example.com".utf8) }
        func survey(bytes: Int, indexed: Bool = true) -> PartialSurvey {
            var survey = PartialSurvey()
            survey.keys = keys
            survey.bytes = bytes
            survey.indexed = indexed
            return survey
        }
        let plan = WorkerMergePlan(fromBytes: 1 << 20, taskBytes: 1 << 20)
        #expect(plan.ranges(for: survey(bytes: 1 << 19), mergeWorkers: 4) == nil, "under the threshold")
        #expect(plan.ranges(for: survey(bytes: 8 << 20), mergeWorkers: 0) == nil, "no merge worker")
        #expect(plan.ranges(for: survey(bytes: 8 << 20, indexed: false), mergeWorkers: 4) == nil, "a partial without an index")
        #expect(plan.ranges(for: survey(bytes: 8 << 20), mergeWorkers: 2)?.count == 8)
        #expect(plan.ranges(for: survey(bytes: 3 << 20), mergeWorkers: 2)?.count == 4, "two per worker, not three")
        #expect(plan.ranges(for: survey(bytes: 2 << 20), mergeWorkers: 5)?.count == 5)
        #expect(plan.ranges(for: survey(bytes: 1 << 30), mergeWorkers: 2)?.count == 64)
    }

    @Test func rowsAreCheckedForShapeCountAndCompression() throws {
        let columns = RangeRows.columns(of: .activeUsers)
        func check(_ csv: [UInt8], rows: Int, limit: Int64 = 1 << 20) throws -> RangeRows {
            try RangeRows.check(segment: Self.segment(csv), columns: columns, rows: rows, limit: limit)
        }
        var good: [UInt8] = []
        for row in ExpectedReport.csv.split(separator: 0x0A).dropFirst() { good += row + [0x0A] }
        let checked = try check(good, rows: 3)
        #expect(checked.length == Int64(good.count))
        #expect(try check([], rows: 0).length == 0)
        let quoted = Array(#""a,""b"@x.com"#.utf8) + good.drop { $0 != UInt8(ascii: ",") }.prefix { $0 != 0x0A } + [0x0A]
        _ = try check(quoted, rows: 1)
        #expect(throws: RangeRowsError.self) { try check(good, rows: 2) }
        #expect(throws: RangeRowsError.self) { try check(good, rows: 4) }
        #expect(throws: RangeRowsError.self) { try check(Array(good.dropLast()), rows: 3) }
        #expect(throws: RangeRowsError.self) { try check(Array("a,b\n".utf8), rows: 1) }
        #expect(throws: RangeRowsError.self) { try check(Array("a\"b".utf8) + good, rows: 3) }
        // A segment that inflates past its bound is refused before it is read whole.
        #expect(throws: RangeRowsError.self) { try check(Array(repeating: UInt8(ascii: ","), count: 1 << 21), rows: 0) }
        // A segment cut inside a block, its last bytes made to look like a sync flush.
        let long = Self.segment(Array(repeating: good, count: 400).flatMap { $0 })
        #expect(throws: RangeRowsError.self) {
            try RangeRows.check(
                segment: Array(long.prefix(long.count / 2)) + [0, 0, 0xFF, 0xFF], columns: columns, rows: 1_200, limit: 1 << 30)
        }
        // Bytes that are not a segment ended by a sync flush.
        #expect(throws: RangeRowsError.self) {
            try RangeRows.check(segment: try GzipDeflater.gzip(good), columns: columns, rows: 3, limit: 1 << 20)
        }
    }

    /// The ranges' segments joined (`GzipJoin`) are one gzip member of the whole CSV.
    @Test func segmentsJoinIntoOneGzipMember() throws {
        // Bytes that do not compress, so a segment's deflate fills its output buffer many times.
        var random = NoiseSource(state: 3)
        let noise = (0..<700_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let parts = [
            Array("header\n".utf8), Array(repeating: UInt8(ascii: "x"), count: 100_000) + [0x0A], [], noise, Array("last\n".utf8),
        ]
        var gzip = GzipJoin.header
        var crc: UInt32 = 0
        var length: Int64 = 0
        for part in parts {
            gzip += Self.segment(part)
            let partCRC = part.withUnsafeBytes { GzipJoin.crc32($0) }
            crc = GzipJoin.combine(crc, partCRC, secondLength: Int64(part.count))
            length += Int64(part.count)
        }
        gzip += GzipJoin.finalBlock + GzipJoin.trailer(crc: crc, length: length)
        #expect(try gunzip(gzip) == parts.flatMap { $0 })
    }

    /// A range accepted, then damaged on disk before the join (its rows kept inflated, or its
    /// segment): the join refuses it, naming the file, instead of writing other bytes than
    /// those accepted; undamaged, it joins to the rows and their summary.
    @Test func aRangeDamagedBeforeTheJoinIsRefused() throws {
        let root = NSTemporaryDirectory() + "tally-join-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = try DataDirectory(root: root)
        let header = ReportRows.header(of: .activeUsers)
        let rows = Array(ExpectedReport.csv[header.count...])
        let count = rows.count { $0 == 0x0A }
        try FileManager.default.createDirectory(atPath: root + "/jobs/j/partials", withIntermediateDirectories: true)
        func join(damaging damaged: String?) throws -> [UInt8] {
            let stored = files.rangeFiles("j", 0, lease: nil)
            let (segmentPath, rowsPath, recordPath) = (stored.segment, stored.rows, stored.record)
            let segment = Self.segment(rows)
            try Data(segment).write(to: URL(fileURLWithPath: segmentPath))
            let checked = try AcceptedRange.accept(
                segment: segment, kind: .activeUsers, rows: count, limit: 1 << 30, rowsPath: rowsPath, recordPath: recordPath, files: files)
            if let damaged {
                var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: damaged)))
                bytes[bytes.count / 2] ^= 0x20
                try Data(bytes).write(to: URL(fileURLWithPath: damaged))
            }
            let writer = try ResultWriter(files: files, jobId: "j", compression: .joined)
            try writer.append(header)
            try writer.append(
                rows: rowsPath, segment: segmentPath, crc: checked.crc, length: checked.length,
                accepted: try #require(AcceptedRange.read(recordPath)))
            try writer.finish()
            return try Array(Data(contentsOf: URL(fileURLWithPath: files.resultPath("j"))))
        }
        #expect(try join(damaging: nil) == ExpectedReport.csv)
        let summary = try JSONDecoder().decode(ReportSummary.self, from: try Data(contentsOf: URL(fileURLWithPath: files.summaryPath("j"))))
        #expect(summary == ReportSummary(csv: ExpectedReport.csv))
        let stored = files.rangeFiles("j", 0, lease: nil)
        for damaged in [stored.rows, stored.segment] {
            let error = #expect(throws: CoordinatorError.self) { try join(damaging: damaged) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("no longer holds the rows accepted"))
        }
    }

    /// A gzip copy compressed as it is written (the coordinator's own merge, the generator's
    /// files), from chunks of any size, is what the system's gzip reads back.
    @Test func aStreamedGzipCopyIsWhatGzipReadsBack() throws {
        var random = NoiseSource(state: 4)
        let csv = (0..<600_000).map { i in i % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : UInt8(ascii: "a") + UInt8(i % 7) }
        #expect(try gunzip(try GzipDeflater.gzip(csv)) == csv)
        let deflater = try GzipDeflater(level: GzipDeflater.smallest)
        var out: [UInt8] = []
        var at = 0
        while at < csv.count {
            let end = min(csv.count, at + 1 + Int(random.next() % 100_000))
            try csv[at..<end].withUnsafeBytes { try deflater.compress($0) { out += $0 } }
            at = end
        }
        try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { out += $0 }
        #expect(try gunzip(out) == csv)
        #expect(throws: DeflateError.self) { try GzipDeflater(level: 9) }
    }
}

/// Seeded bytes for data that does not compress (SplitMix64: the sketches' integer mix of a
/// counter).
private struct NoiseSource {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return StableHash.mix(state)
    }
}
