/// Connector real-time `ANALYTICS` log lines (docs/design.md §2.1), with interleaved service log lines
/// and optional journald / Docker prefixes.
enum AnalyticsRenderer {
    enum Malform: Int {
        case none = -1
        case badJSON = 0, missingTimestamp, truncated, invalidUTF8, negativeBytes
    }

    static func malform(ordinal: Int) -> Malform {
        Malform(rawValue: ordinal % 5) ?? .badJSON
    }

    private enum Kind { case established, closed, failed }

    private static let errorMessages: [StaticString] = ["CONNECTION_REFUSED", "TIMEOUT", "HOST_UNREACHABLE", "ACCESS_DENIED"]
    private static let serviceMessages: [StaticString] = [
        "INFO [connector] heartbeat ok",
        "INFO [controller] access token refreshed",
        "WARN [relay] reconnecting to relay 34.105.34.33:30013",
        "DEBUG [dns] resolver cache: 1024 entries, hit rate 0.93",
        "INFO [connector] state: Online",
        "ERROR [peer] p2p handshake timed out, falling back to relay",
        "INFO [connector] {\"note\":\"not an event\"}",
        "WARN [controller] slow response: 1203 ms",
    ]

    /// Lines written at the top of every hourly file.
    static func fileHeader(hourStartMs: Int64, _ w: inout LineWriter) {
        w.serviceTime(hourStartMs)
        w.lit(" INFO [connector] log file opened\n")
        w.serviceTime(hourStartMs)
        w.lit(" INFO [connector] Twingate Connector 1.71.0, analytics v2\n")
    }

    /// All lines for one logical event.
    static func lines(_ e: LogicalEvent, _ world: World, _ w: inout LineWriter) {
        let look = e.look2
        if e.isSuccess && (look >> 20) & 1 == 1 {
            record(e, world, &w, kind: .established, time: e.time - e.durationMs, malform: .none)
        }
        record(e, world, &w, kind: e.isSuccess ? .closed : .failed, time: e.time, malform: .none)
        if (look >> 13) & 127 < 2 {
            serviceLine(e.time, message: Int((look >> 31) & 7), journald: (look >> 9) & 15 == 0, &w)
        }
    }

    static func malformed(_ e: LogicalEvent, _ world: World, _ w: inout LineWriter, _ kind: Malform) {
        var e = e
        switch kind {
        case .badJSON:
            w.lit("ANALYTICS {bad json\n")
        case .invalidUTF8 where e.user < 0:
            e.user = 0
            e.device = Int(world.userDeviceStart[0])
            record(e, world, &w, kind: .closed, time: e.time, malform: kind)
        default:
            record(
                e, world, &w, kind: (e.isSuccess || kind == .negativeBytes) ? .closed : .failed,
                time: e.time, malform: kind)
        }
    }

    private static func serviceLine(_ time: Int64, message: Int, journald: Bool, _ w: inout LineWriter) {
        if journald {
            w.journalTime(time)
            w.lit(" connector-host twingate-connector[812]: ")
        } else {
            w.serviceTime(time)
            w.byte(0x20)
        }
        w.lit(serviceMessages[message])
        w.byte(0x0A)
    }

    private static func record(
        _ e: LogicalEvent, _ world: World, _ w: inout LineWriter,
        kind: Kind, time: Int64, malform: Malform
    ) {
        let look = e.look2
        switch (look >> 9) & 15 {
        case 0:
            w.journalTime(time)
            w.lit(" connector-host twingate-connector[812]: ")
        case 1:
            w.dockerTime(time, nanos: look >> 40)
            w.byte(0x20)
        default:
            break
        }
        let start = w.count
        w.lit("ANALYTICS {\"connection\":{\"cbct_freshness\":-")
        w.uint(1 + (look >> 23) % 200)
        w.lit(",\"client_ip\":\"")
        world.ips.write(e.ip, to: &w)
        w.lit("\",\"duration\":")
        w.uint(kind == .closed ? UInt64(e.durationMs) * 1000 + (look >> 44) % 1000 : 0)
        if kind == .failed {
            w.lit(",\"error_message\":\"")
            w.lit(e.outcome == .dnsFailure ? "DNS_ERROR" : errorMessages[Int((look >> 34) & 3)])
            w.byte(0x22)
        }
        w.lit(",\"id\":\"")
        w.hex(e.connectionID, width: 16)
        w.byte(0x2D)
        w.uint(e.connectionID >> 58)
        w.lit(world.resourceUDP[e.resource] ? "\",\"protocol\":\"udp\"" : "\",\"protocol\":\"tcp\"")
        if kind != .failed {
            w.lit(",\"resource_ip\":\"")
            world.resourceIP.write(e.resource, to: &w)
            w.byte(0x22)
        }
        w.lit(",\"resource_port\":")
        w.uint(world.resourcePort[e.resource])
        if kind == .closed {
            w.lit(",\"rx\":")
            w.uint(e.bytesReceived)
        }
        let showPath = look % 10 != 0
        if kind != .failed && showPath {
            if e.relayed {
                w.lit((look >> 8) & 1 == 0 ? ",\"tunnel_path\":\"relay\"" : ",\"tunnel_path\":\"relayed/quic\"")
            } else {
                w.lit(",\"tunnel_path\":\"direct\"")
            }
            w.lit((look >> 36) & 1 == 0 ? ",\"tunnel_proto\":\"quic/udp\"" : ",\"tunnel_proto\":\"tcp/tls\"")
        }
        if kind == .closed {
            w.lit(",\"tx\":")
            if malform == .negativeBytes { w.lit("-5") } else { w.uint(e.bytesTransferred) }
        }
        w.lit("},\"connector\":")
        EventJSON.connector(e.connector, world, &w)
        if e.user >= 0 {
            w.lit(",\"device\":{\"id\":\"")
            world.devices.write(e.device, to: &w)
            w.lit("\"}")
        }
        switch kind {
        case .established: w.lit(",\"event_type\":\"established_connection\"")
        case .closed: w.lit(",\"event_type\":\"closed_connection\"")
        case .failed: w.lit(",\"event_type\":\"failed_to_connect\"")
        }
        if (look >> 21) & 3 == 0 {
            w.lit(",\"location\":\"{")
            var inner = LineWriter(capacity: 64)
            JSONSpacing.location(SplitMix64.hash(world.seedKey, UInt64(e.ip)), &inner)
            for k in 0..<inner.count {
                let b = inner.base[k]
                if b == 0x22 { w.byte(0x5C) }
                w.byte(b)
            }
            inner.deallocate()
            w.lit("}\"")
        }
        w.lit(",\"relays\":[")
        if kind != .failed && e.relayed { EventJSON.relay(e.relay, world, &w) }
        w.lit("],\"remote_network\":")
        EventJSON.remoteNetwork(ofResource: e.resource, world, ascii: false, &w)
        w.lit(",\"resource\":{")
        EventJSON.resourceFields(e.resource, world, ascii: false, &w)
        w.byte(0x7D)
        if e.user < 0 {
            w.lit(",\"service_account\":{")
            EventJSON.serviceAccountFields(e.service, world, &w)
            w.byte(0x7D)
        }
        if malform != .missingTimestamp {
            w.lit(",\"timestamp\":")
            w.int(time)
        }
        if e.user >= 0 {
            w.lit(",\"user\":{\"email\":\"")
            if malform == .invalidUTF8 {
                w.lit("bad")
                w.byte(0xFF)
                w.lit("user@example.com")
            } else {
                world.emailJSON.write(e.user, to: &w)
            }
            w.lit("\",\"id\":\"")
            world.userID.write(e.user, to: &w)
            w.lit("\"}")
        }
        w.byte(0x7D)
        if malform == .truncated {
            var cut = start + (w.count - start) / 2
            while cut > start + 12 && w.base[cut - 1] >= 0x80 { cut -= 1 }
            w.count = cut
        }
        w.byte(0x0A)
    }
}
