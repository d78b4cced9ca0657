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

    func send(to aggregator: inout UserAggregator) {
        let u = Array(user.utf8), d = Array(device.utf8), i = Array(ip.utf8)
        u.withUnsafeBytes { ub in
            d.withUnsafeBytes { db in
                i.withUnsafeBytes { ib in
                    var e = ConnectionEvent()
                    e.time = time
                    e.user = ub
                    e.device = db
                    e.clientIP = ib
                    e.outcome = outcome
                    e.bytesTransferred = transferred
                    e.bytesReceived = received
                    e.relayed = relayed
                    aggregator.receive(e)
                }
            }
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
