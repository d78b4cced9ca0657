import Foundation
import TallyFormats
import TallyReport
import TallySources
import Testing

@testable import TallyProtocol

/// The worker protocol is a contract with workers of other builds: its JSON is pinned here, as
/// literal text, so no change to the engine's types can alter it unnoticed.
@Suite struct WorkerProtocolWireTests {
    /// A grant as the coordinator builds it from engine and source types.
    static func grant() -> LeaseGrant {
        let task = ReportTask(
            index: 3, shard: TimeShard(start: 1_790_000_000_000_000, end: 1_790_003_600_000_000),
            objects: [
                LogObject(name: "2026-09-21T13.csv.gz", size: 1234),
                LogObject(name: "extra.csv", size: 0),
            ])
        let source = ConfiguredSource(
            address: SourceAddress(kind: .s3, url: "s3://logs/sync", endpoint: "http://127.0.0.1:9000", region: "eu-west-1"),
            format: .twingateS3)
        return LeaseGrant(
            leaseId: "lease0000000000a", jobId: "job00000000000b", leaseSeconds: 30, heartbeatSeconds: 10,
            source: SourceSpec(source), window: WireWindow(try! ReportWindow(from: 1_790_000_000_000_000, to: 1_790_086_400_000_000)),
            task: WireTask(task))
    }

    static let v1JSON =
        #"{"heartbeat_seconds":10,"job_id":"job00000000000b","lease_id":"lease0000000000a","lease_seconds":30,"#
        + #""source":{"endpoint":"http:\/\/127.0.0.1:9000","format":"twingate-s3","kind":"s3","region":"eu-west-1","url":"s3:\/\/logs\/sync"},"#
        + #""task":{"index":3,"objects":[{"name":"2026-09-21T13.csv.gz","name_time":{"end":1789999200000000,"start":1789995600000000},"size":1234},"#
        + #"{"name":"extra.csv","size":0}],"shard":{"end":1790003600000000,"start":1790000000000000}},"#
        + #""window":{"from":1790000000000000,"to":1790086400000000}}"#

    @Test func leaseGrantEncodesAsV1() throws {
        let text = String(decoding: try TallyJSON.encoder().encode(Self.grant()), as: UTF8.self)
        #expect(text == Self.v1JSON)
    }

    @Test func v1GrantDecodesToTheSameEngineTask() throws {
        let grant = try TallyJSON.decoder().decode(LeaseGrant.self, from: Data(Self.v1JSON.utf8))
        let task = grant.task.engineTask
        #expect(task.index == 3)
        #expect(task.shard == TimeShard(start: 1_790_000_000_000_000, end: 1_790_003_600_000_000))
        #expect(task.objects.map(\.name) == ["2026-09-21T13.csv.gz", "extra.csv"])
        #expect(task.objects[0].nameTime == ObjectTimeRange(start: 1_789_995_600_000_000, end: 1_789_999_200_000_000))
        #expect(task.objects[1].nameTime == nil)
        let window = try grant.window.engineWindow()
        #expect(window.from == 1_790_000_000_000_000 && window.to == 1_790_086_400_000_000)
        let source = try grant.source.configuredSource()
        #expect(source.format == .twingateS3)
        #expect(source.address == SourceAddress(kind: .s3, url: "s3://logs/sync", endpoint: "http://127.0.0.1:9000", region: "eu-west-1"))
    }

    @Test func requestAndRepliesKeepTheirV1Keys() throws {
        let encoder = TallyJSON.encoder()
        #expect(String(decoding: try encoder.encode(LeaseRequest(worker: "w1")), as: UTF8.self) == #"{"protocol_version":2,"worker":"w1"}"#)
        #expect(
            String(decoding: try encoder.encode(HeartbeatReply(action: .continue, leaseSeconds: 30)), as: UTF8.self)
                == #"{"action":"continue","lease_seconds":30}"#)
        #expect(
            String(decoding: try encoder.encode(UploadReply(committed: false, reason: "already committed")), as: UTF8.self)
                == #"{"committed":false,"reason":"already committed"}"#)
        #expect(String(decoding: try encoder.encode(FailureReport(reason: "x")), as: UTF8.self) == #"{"reason":"x"}"#)
    }

    @Test func aSpecAWorkerCannotUseIsRefusedWithTheField() {
        var spec = SourceSpec(kind: "ftp", url: "ftp://x", format: "auto")
        #expect(throws: SourceError.self) { _ = try spec.configuredSource() }
        spec = SourceSpec(kind: "file", url: "/x", format: "twingate-xml")
        #expect(throws: SourceError.self) { _ = try spec.configuredSource() }
    }
}
