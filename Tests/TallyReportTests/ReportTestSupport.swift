import TallyFormats

@testable import TallyReport

/// Builds events for the aggregator without going through a parser.
struct EventBuilder {
    var time: Int64
    var user: String
    var outcome: ConnectionOutcome = .success
    var transferred: UInt64 = 0
    var received: UInt64 = 0
    var relayed = false
    var device = ""
    var ip = ""
    var resource = ""
    var rule = ""
    var reached = ""
    var network = ""
    var networkID = ""
    var transport = ""

    func send(to aggregator: inout RowAggregator) {
        // Every text field in one buffer, each event field a slice of it.
        let fields = [user, device, ip, resource, rule, reached, network, networkID, transport].map { Array($0.utf8) }
        let joined = fields.flatMap { $0 }
        joined.withUnsafeBytes { all in
            var slices: [UnsafeRawBufferPointer] = []
            var at = 0
            for field in fields {
                slices.append(UnsafeRawBufferPointer(rebasing: all[at..<at + field.count]))
                at += field.count
            }
            var e = ConnectionEvent()
            e.time = time
            (e.user, e.device, e.clientIP) = (slices[0], slices[1], slices[2])
            (e.resourceID, e.resourceRule, e.addressReached) = (slices[3], slices[4], slices[5])
            (e.network, e.networkID, e.transport) = (slices[6], slices[7], slices[8])
            e.outcome = outcome
            e.bytesTransferred = transferred
            e.bytesReceived = received
            e.relayed = relayed
            aggregator.receive(e)
        }
    }
}

/// Renders merged partials to CSV text.
func render(_ partials: [Partial]) -> String {
    var merger = ReportMerger()
    for p in partials { merger.merge(p) }
    return String(decoding: merger.csv(), as: UTF8.self)
}

let hour: Int64 = 3_600_000_000
