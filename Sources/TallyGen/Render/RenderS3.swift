/// S3 sync JSON lines (docs/design.md §2.1).
enum S3Renderer {
    enum Malform: Int {
        case none = -1
        case truncated = 0, missingTime, invalidUTF8, negativeBytes
    }

    static func malform(ordinal: Int) -> Malform {
        Malform(rawValue: ordinal % 4) ?? .truncated
    }

    private enum Status { case established, closed, failed, denied }

    private static let errorMessages: [StaticString] = ["CONNECTION_REFUSED", "TIMEOUT", "HOST_UNREACHABLE", "CONNECTOR_OFFLINE"]

    /// All lines for one logical event: an optional `established_connection` record, the ending
    /// record, and now and then an unrelated event (`dns_filtering`, `audit_log`, …).
    static func lines(_ e: LogicalEvent, _ world: World, _ w: inout LineWriter) {
        let look = e.look
        if e.isSuccess && (look >> 15) & 1 == 1 {
            record(e, world, &w, status: .established, time: e.time - e.durationMs, malform: .none)
        }
        let status: Status
        switch e.outcome {
        case .success: status = .closed
        case .dnsFailure: status = .failed
        case .otherFailure: status = (look >> 26) & 3 == 0 ? .denied : .failed
        }
        record(e, world, &w, status: status, time: e.time, malform: .none)
        let other = (look >> 16) & 1023
        if other < 8 { unrelated(e, world, &w, kind: Int(other)) }
    }

    /// A malformed line made from event `e`.
    static func malformed(_ e: LogicalEvent, _ world: World, _ w: inout LineWriter, _ kind: Malform) {
        var e = e
        if kind == .invalidUTF8 && e.user < 0 {
            e.user = 0
            e.device = Int(world.userDeviceStart[0])
        }
        let status: Status = (kind == .negativeBytes || e.isSuccess) ? .closed : .failed
        record(e, world, &w, status: status, time: e.time, malform: kind)
    }

    private static func record(
        _ e: LogicalEvent, _ world: World, _ w: inout LineWriter,
        status: Status, time: Int64, malform: Malform
    ) {
        let look = e.look
        let start = w.count
        let variant = look & 15
        if variant < 3 {
            w.lit("{\"event\":")
            body(e, world, &w, status: status, time: time, malform: malform)
            w.lit(",\"event_type\":\"network_access\"}")
        } else {
            w.lit(variant == 3 ? "{\"event_type\":\"network\",\"event\":" : "{\"event_type\":\"network_access\",\"event\":")
            body(e, world, &w, status: status, time: time, malform: malform)
            w.byte(0x7D)
        }
        if (look >> 5) & 7 == 0 { JSONSpacing.respace(&w, from: start) }
        if malform == .truncated {
            var cut = start + (w.count - start) / 2
            while cut > start + 1 && w.base[cut - 1] >= 0x80 { cut -= 1 }
            w.count = cut
        }
        w.byte(0x0A)
    }

    private static func body(
        _ e: LogicalEvent, _ world: World, _ w: inout LineWriter,
        status: Status, time: Int64, malform: Malform
    ) {
        let look = e.look
        let ascii = (look >> 11) & 3 == 0
        w.lit("{\"version\":1,")
        let statusFirst = (look >> 4) & 1 == 1
        if statusFirst {
            statusField(status, &w)
            if malform != .missingTime {
                w.byte(0x2C)
                timeField(time, &w)
            }
        } else {
            if malform != .missingTime {
                timeField(time, &w)
                w.byte(0x2C)
            }
            statusField(status, &w)
        }
        w.lit(",\"connection\":{\"client_ip\":\"")
        world.ips.write(e.ip, to: &w)
        w.lit(world.resourceUDP[e.resource] ? "\",\"protocol\":\"udp\"" : "\",\"protocol\":\"tcp\"")
        switch status {
        case .closed:
            w.lit(",\"bytes_received\":")
            if malform == .negativeBytes { w.lit("-5") } else { w.uint(e.bytesReceived) }
            w.lit(",\"bytes_transferred\":")
            w.uint(e.bytesTransferred)
        case .failed:
            w.lit(",\"error_message\":\"")
            if e.outcome == .dnsFailure {
                w.lit("DNS_ERROR")
            } else {
                w.lit(errorMessages[Int((look >> 28) & 3)])
            }
            w.byte(0x22)
        case .denied:
            w.lit(",\"error_message\":\"ACCESS_DENIED\"")
        case .established:
            break
        }
        w.lit("},\"connector\":")
        EventJSON.connector(e.connector, world, &w)
        w.lit(",\"remote_network\":")
        EventJSON.remoteNetwork(ofResource: e.resource, world, ascii: ascii, &w)
        w.lit(",\"resource\":{")
        EventJSON.resourceFields(e.resource, world, ascii: ascii, &w)
        let connected = status == .closed || status == .established
        if connected {
            w.lit(",\"ip\":\"")
            world.resourceIP.write(e.resource, to: &w)
            w.byte(0x22)
        }
        w.lit(",\"port\":")
        w.uint(world.resourcePort[e.resource])
        w.lit("},\"relays\":[")
        if connected && e.relayed { EventJSON.relay(e.relay, world, &w) }
        w.byte(0x5D)
        if e.user >= 0 {
            w.lit(",\"device\":{\"id\":\"")
            world.devices.write(e.device, to: &w)
            w.lit("\"},\"user\":{")
            if (look >> 10) & 1 == 1 {
                emailField(e, world, &w, ascii: ascii, malform: malform)
                w.lit(",\"id\":\"")
                world.userID.write(e.user, to: &w)
                w.byte(0x22)
            } else {
                w.lit("\"id\":\"")
                world.userID.write(e.user, to: &w)
                w.lit("\",")
                emailField(e, world, &w, ascii: ascii, malform: malform)
            }
            w.byte(0x7D)
        } else {
            w.lit(",\"service_account\":{")
            EventJSON.serviceAccountFields(e.service, world, &w)
            w.lit(",\"key\":\"")
            world.serviceKeyJSON.write(e.service, to: &w)
            w.lit("\",\"key_id\":\"")
            world.serviceKeyID.write(e.service, to: &w)
            w.lit("\"}")
        }
        if (look >> 13) & 3 != 0 {
            w.lit(",\"location\":{")
            JSONSpacing.location(SplitMix64.hash(world.seedKey, UInt64(e.ip)), &w)
            w.byte(0x7D)
        }
        if (look >> 8) & 3 == 0 {
            w.lit(",\"client_version\":\"1.71.0\"")
        }
        w.byte(0x7D)
    }

    @inline(__always)
    private static func timeField(_ time: Int64, _ w: inout LineWriter) {
        w.lit("\"time\":\"")
        w.isoMicros(time)
        w.byte(0x22)
    }

    @inline(__always)
    private static func statusField(_ status: Status, _ w: inout LineWriter) {
        switch status {
        case .established: w.lit("\"status\":\"established_connection\"")
        case .closed: w.lit("\"status\":\"closed_connection\"")
        case .failed: w.lit("\"status\":\"failed_to_connect\"")
        case .denied: w.lit("\"status\":\"denied_access\"")
        }
    }

    @inline(__always)
    private static func emailField(_ e: LogicalEvent, _ world: World, _ w: inout LineWriter, ascii: Bool, malform: Malform) {
        w.lit("\"email\":\"")
        if malform == .invalidUTF8 {
            w.lit("bad")
            w.byte(0xC3)
            w.byte(0x28)
            w.lit("user@example.com")
        } else {
            (ascii ? world.emailJSONAscii : world.emailJSON).write(e.user, to: &w)
        }
        w.byte(0x22)
    }

    /// Events of other types that share the file and must be skipped by readers.
    private static func unrelated(_ e: LogicalEvent, _ world: World, _ w: inout LineWriter, kind: Int) {
        switch kind {
        case 0...4:
            w.lit("{\"event_type\":\"dns_filtering\",\"event\":{\"time\":\"")
            w.isoMicros(e.time)
            w.lit("\",\"domain\":\"ads.tracker.example\",\"action\":\"blocked\",\"status\":\"closed_connection\"")
            if e.user >= 0 {
                w.lit(",\"device\":{\"id\":\"")
                world.devices.write(e.device, to: &w)
                w.lit("\"},\"user\":{\"id\":\"")
                world.userID.write(e.user, to: &w)
                w.lit("\",\"email\":\"")
                world.emailJSON.write(e.user, to: &w)
                w.lit("\"}")
            }
            w.lit("}}\n")
        case 5:
            w.lit("{\"event_type\":\"audit_log\",\"event\":{\"time\":\"")
            w.isoMicros(e.time)
            w.lit(
                "\",\"action\":\"resource.update\",\"actor\":{\"email\":\"admin@example.com\",\"id\":\"1\"},\"target\":{\"type\":\"resource\",\"id\":\""
            )
            world.resourceID.write(e.resource, to: &w)
            w.lit("\"}}}\n")
        case 6:
            w.lit("{\"event_type\":\"data_loss_prevention\",\"event\":{\"time\":\"")
            w.isoMicros(e.time)
            w.lit("\",\"status\":\"blocked\",\"policy\":\"PII \\\"strict\\\"\"}}\n")
        default:
            w.lit("{\"event\":{\"time\":\"")
            w.isoMicros(e.time)
            w.lit("\",\"status\":\"closed_connection\",\"result\":\"pass\"},\"event_type\":\"device_posture_check\"}\n")
        }
    }
}

enum JSONSpacing {
    /// Rewrites the JSON written since `start` with `": "` and `", "` separators (outside strings),
    /// as Python's `json.dumps` writes them.
    static func respace(_ w: inout LineWriter, from start: Int) {
        let compact = Array(UnsafeBufferPointer(start: w.base + start, count: w.count - start))
        w.count = start
        var inString = false, escaped = false
        for b in compact {
            w.byte(b)
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
            } else if b == 0x22 {
                inString = true
            } else if b == 0x3A || b == 0x2C {
                w.byte(0x20)
            }
        }
    }

    /// `"lat":39.84,"lon":-100.04` from a hash.
    static func location(_ h: UInt64, _ w: inout LineWriter) {
        w.lit("\"lat\":")
        hundredths(Int64(h % 12_501) - 5_500, &w)
        w.lit(",\"lon\":")
        hundredths(Int64((h >> 20) % 34_001) - 17_000, &w)
    }

    static func hundredths(_ v: Int64, _ w: inout LineWriter) {
        if v < 0 { w.byte(0x2D) }
        let a = v < 0 ? -v : v
        w.uint(UInt64(a / 100))
        w.byte(0x2E)
        w.padded(a % 100, width: 2)
    }
}
