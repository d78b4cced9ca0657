/// Network Events CSV rows (docs/design.md §2.1).
enum CSVRenderer {
    static let header: StaticString =
        "start_time,end_time,user,user_id,device_id,client_ip,connector,connector_id,resource_ip,resource_port,resource_domain,resource_id,protocol,status,bytes_transferred,bytes_received,remote_network,remote_network_id,applied_rule,relays,relay_ips,relay_ports,service_account,service_account_id,service_account_key,service_account_key_id\n"

    /// Kinds of malformed rows, chosen by the run's malformed ordinal.
    enum Malform: Int, CaseIterable {
        case none = -1
        case extraField = 0, badTimestamp, negativeBytes, invalidUTF8
    }

    static func malform(ordinal: Int) -> Malform {
        Malform(rawValue: ordinal % 4) ?? .extraField
    }

    /// One row, with its line end.
    static func row(_ e: LogicalEvent, _ world: World, _ w: inout LineWriter, malform: Malform = .none) {
        let success = e.isSuccess || malform == .negativeBytes
        if malform == .badTimestamp {
            w.lit("not-a-timestamp")
        } else {
            w.csvTime(e.time)
        }
        w.byte(0x2C)
        if success { w.csvTime(e.time + e.durationMs) }
        w.byte(0x2C)
        if e.user >= 0 {
            if malform == .invalidUTF8 {
                w.lit("bad")
                w.byte(0xFF)
                w.byte(0xFE)
                w.lit("user@example.com")
            } else {
                world.emailCSV.write(e.user, to: &w)
            }
            w.byte(0x2C)
            world.userID.write(e.user, to: &w)
            w.byte(0x2C)
            if e.device >= 0 { world.devices.write(e.device, to: &w) }
        } else {
            w.lit(",,")
        }
        w.byte(0x2C)
        world.ips.write(e.ip, to: &w)
        w.byte(0x2C)
        world.connectorName.write(e.connector, to: &w)
        w.byte(0x2C)
        world.connectorID.write(e.connector, to: &w)
        w.byte(0x2C)
        if success { world.resourceIP.write(e.resource, to: &w) }
        w.byte(0x2C)
        w.uint(world.resourcePort[e.resource])
        w.byte(0x2C)
        world.resourceAddressCSV.write(e.resource, to: &w)
        w.byte(0x2C)
        world.resourceID.write(e.resource, to: &w)
        w.byte(0x2C)
        if world.resourceUDP[e.resource] { w.lit("udp,") } else { w.lit("tcp,") }
        if success {
            w.lit("NORMAL,")
            if malform == .negativeBytes { w.lit("-5") } else { w.uint(e.bytesTransferred) }
            w.byte(0x2C)
            w.uint(e.bytesReceived)
        } else if e.outcome == .dnsFailure {
            w.lit("DNS_ERROR,,")
        } else {
            w.lit("CONNECTION_FAILED,,")
        }
        w.byte(0x2C)
        let network = world.resourceNetwork[e.resource]
        world.networkNameCSV.write(network, to: &w)
        w.byte(0x2C)
        world.networkID.write(network, to: &w)
        w.byte(0x2C)
        world.resourceRuleCSV.write(e.resource, to: &w)
        w.byte(0x2C)
        if success && e.relayed {
            world.relayName.write(e.relay, to: &w)
            w.byte(0x2C)
            world.relayIP.write(e.relay, to: &w)
            w.byte(0x2C)
            w.uint(world.relayPort[e.relay])
        } else {
            w.lit(",,")
        }
        w.byte(0x2C)
        if e.user < 0 {
            world.serviceNameCSV.write(e.service, to: &w)
            w.byte(0x2C)
            world.serviceID.write(e.service, to: &w)
            w.byte(0x2C)
            world.serviceKeyCSV.write(e.service, to: &w)
            w.byte(0x2C)
            world.serviceKeyID.write(e.service, to: &w)
        } else {
            w.lit(",,,")
        }
        if malform == .extraField { w.lit(",extra") }
        w.byte(0x0A)
    }
}
