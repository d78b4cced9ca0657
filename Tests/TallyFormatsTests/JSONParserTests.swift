import TallyFormats
import Testing

@Suite struct TwingateS3ParserTests {
    static let example =
        #"{"event_type":"network_access","event":{"version":1,"time":"2025-07-25T18:19:41.236597+00:00","status":"closed_connection","connection":{"client_ip":"1.2.3.4","protocol":"tcp","bytes_received":338,"bytes_transferred":404},"connector":{"id":"123456","name":"faithful-pigeon"},"remote_network":{"id":"789012","name":"aws-us-east-1-dev"},"resource":{"address":"argocd.eks.twindemo.int","applied_rule":"argocd.eks.twindemo.int","id":"1234567","ip":"10.11.12.13","port":80},"relays":[{"ip":"1.2.3.4","name":"relaybalancer+https://relays-prm.twingate.com","port":30501}],"device":{"id":"1234567"},"user":{"id":"890123","email":"janedoe@twindemo.com"},"location":{"lat":39.84,"lon":-100.04}}}"#

    @Test func readsTheFormatsExample() throws {
        let result = try readText(Self.example + "\n", format: .twingateS3)
        let e = try #require(result.events.first)
        #expect(e.time == micros(2025, 7, 25, 18, 19, 41, 236_597))
        #expect(e.user == "janedoe@twindemo.com")
        #expect(e.ip == "1.2.3.4" && e.device == "1234567")
        #expect(e.received == 338 && e.transferred == 404)
        #expect(e.relayed && e.outcome == .success)
    }

    @Test func keyOrderEscapesFailuresAndOtherTypes() throws {
        let lines = [
            #"{"event":{"status":"failed_to_connect","user":{"email":"jos\u00e9@ex\"a.com"},"connection":{"error_message":"DNS_ERROR","client_ip":"::1"},"relays":[],"time":"2025-07-25T18:19:41Z"},"event_type":"network"}"#,
            #"{"event_type":"network_access","event":{"status":"denied_access","time":"2025-07-25T20:19:41.5+02:00","service_account":{"id":"1"},"connection":{"error_message":"POLICY"}}}"#,
            #"{"event_type":"network_access","event":{"status":"established_connection","time":"2025-07-25T18:19:41Z","user":{"email":"a@b"}}}"#,
            #"{"event_type":"dns_filtering","event":{"anything":[1,2,{"x":null}]}}"#,
        ]
        let result = try readText(lines.joined(separator: "\n"), format: .twingateS3)
        #expect(result.events.count == 2)
        #expect(result.events[0].user == "josé@ex\"a.com")
        #expect(result.events[0].outcome == .dnsFailure && !result.events[0].relayed)
        #expect(result.events[1].user.isEmpty && result.events[1].outcome == .otherFailure)
        #expect(result.events[1].time == micros(2025, 7, 25, 18, 19, 41, 500_000))
        #expect(result.stats.notEvents == 2 && result.stats.malformed == 0)
    }

    @Test(arguments: [
        (
            #"{"event_type":"network_access","event":{"status":"closed_connection","time":"2025-07-25T18:19:41Z","user":{"email":"a@b"}}"#,
            MalformedReason.badJSON
        ),
        (
            #"{"event_type":"network_access","event":{"status":"closed_connection","time":"2025-07-25T18:19:41Z","user":{"email":"a@b"}}} x"#,
            .badJSON
        ),
        (#"{"event_type":"network_access","event":{"status":"closed_connection","user":{"email":"a@b"}}}"#, .missingField),
        (#"{"event_type":"network_access","event":{"time":"2025-07-25T18:19:41Z","user":{"email":"a@b"}}}"#, .missingField),
        (#"{"event_type":"network_access","event":{"status":"closed_connection","time":"2025-07-25T18:19:41Z"}}"#, .missingField),
        (
            #"{"event_type":"network_access","event":{"status":"closed_connection","time":"25/07/2025","user":{"email":"a@b"}}}"#,
            .badTimestamp
        ),
        (
            #"{"event_type":"network_access","event":{"status":"closed_connection","time":"2025-07-25T18:19:41Z","user":{"email":"a@b"},"connection":{"bytes_received":-1}}}"#,
            .badByteCount
        ),
        (
            #"{"event_type":"network_access","event":{"status":"closed_connection","time":"2025-07-25T18:19:41Z","user":{"email":"a@b"},"connection":{"bytes_received":"12"}}}"#,
            .badByteCount
        ),
        (#"{"event":{"status":"closed_connection","time":"2025-07-25T18:19:41Z","user":{"email":"a@b"}}}"#, .missingField),
        (
            #"{"event_type":"network_access","event":{"status":"closed_connection","time":"2025-07-25T18:19:41Z","user":{"email":"a\x@b"}}}"#,
            .badJSON
        ),
    ])
    func malformedLines(line: String, reason: MalformedReason) throws {
        let result = try readText(line + "\n" + Self.example + "\n", format: .twingateS3)
        #expect(result.stats[reason] == 1, "\(result.stats)")
        #expect(result.stats.malformed == 1)
        #expect(result.events.count == 1)
    }
}

@Suite struct TwingateAnalyticsParserTests {
    static let example =
        #"ANALYTICS {"connection":{"cbct_freshness":-97,"client_ip":"192.0.2.10","duration":3034753,"id":"e755ba99988db558-24","protocol":"tcp","resource_ip":"10.0.0.4","resource_port":443,"rx":234867,"tunnel_path":"direct","tunnel_proto":"quic/udp","tx":23363},"connector":{"id":"84014","name":"nondescript-caterpillar"},"device":{"id":"200903"},"event_type":"closed_connection","relays":[],"remote_network":{"id":"1","name":"office"},"resource":{"address":"app.website.com","applied_rule":"*.website.com","id":"2"},"timestamp":1698356150045,"user":{"email":"user@twingate.com","id":"113256"}}"#

    @Test func readsTheFormatsExampleAmongServiceLines() throws {
        let text =
            "2023-10-26 21:35:50 INFO starting\n" + Self.example + "\nOct 26 21:35:50 host twingate-connector[812]: "
            + Self.example.replacingOccurrences("\"direct\"", "\"relay\"") + "\n"
        let result = try readText(text, format: .twingateAnalytics)
        #expect(result.events.count == 2)
        let e = result.events[0]
        #expect(e.time == 1_698_356_150_045_000)
        #expect(e.received == 234_867 && e.transferred == 23_363)
        #expect(!e.relayed && result.events[1].relayed)
        #expect(e.user == "user@twingate.com" && e.ip == "192.0.2.10" && e.device == "200903")
        #expect(result.stats.notEvents == 1)
    }

    @Test func olderConnectorsWithoutTunnelPathUseRelays() throws {
        let relayed =
            #"ANALYTICS {"event_type":"closed_connection","timestamp":1,"relays":[{"ip":"1.1.1.1"}],"user":{"email":"a@b"},"connection":{"rx":1,"tx":2}}"#
        let direct =
            #"ANALYTICS {"event_type":"failed_to_connect","timestamp":2,"relays":[],"user":{"email":"a@b"},"connection":{"error_message":"DNS_ERROR"}}"#
        let established = #"ANALYTICS {"event_type":"established_connection","timestamp":2,"user":{"email":"a@b"}}"#
        let result = try readText([relayed, direct, established].joined(separator: "\n"), format: .twingateAnalytics)
        #expect(result.events.map(\.relayed) == [true, false])
        #expect(result.events[1].outcome == .dnsFailure)
        #expect(result.stats.notEvents == 1)
    }

    @Test(arguments: [
        (#"ANALYTICS {bad json"#, MalformedReason.badJSON),
        (#"ANALYTICS {"event_type":"closed_connection","user":{"email":"a@b"}}"#, .missingField),
        (#"ANALYTICS {"event_type":"closed_connection","timestamp":"soon","user":{"email":"a@b"}}"#, .badTimestamp),
        (#"ANALYTICS {"event_type":"closed_connection","timestamp":1.5,"user":{"email":"a@b"}}"#, .badTimestamp),
        (#"ANALYTICS {"event_type":"closed_connection","timestamp":1,"user":{"email":"a@b"},"connection":{"tx":-3}}"#, .badByteCount),
        (#"ANALYTICS {"timestamp":1,"user":{"email":"a@b"}}"#, .missingField),
    ])
    func malformedLines(line: String, reason: MalformedReason) throws {
        let result = try readText(line + "\n" + Self.example, format: .twingateAnalytics)
        #expect(result.stats[reason] == 1, "\(result.stats)")
        #expect(result.stats.malformed == 1)
        #expect(result.events.count == 1)
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
