/// How a connection ended, as the report counts it.
public enum ConnectionOutcome: UInt8, Sendable {
    /// CSV `NORMAL`, JSON `closed_connection`.
    case success
    /// CSV `DNS_ERROR`, or a JSON failure whose `error_message` is `DNS_ERROR`.
    case dnsFailure
    /// Every other failure (`CONNECTION_FAILED`, `denied_access`, …).
    case otherFailure
}

/// One connection-ending record, decoded from a log line.
///
/// The byte fields point into the reader's buffers and are valid only while the sink that
/// receives the event runs: the hot path keeps no `String` per field, so a sink that needs a
/// value later must copy or intern it.
public struct ConnectionEvent {
    /// Event time in microseconds since the Unix epoch (UTC).
    public var time: Int64 = 0
    /// How the connection ended.
    public var outcome: ConnectionOutcome = .success
    /// Bytes the client sent towards the resource (CSV `bytes_transferred`, analytics `tx`).
    public var bytesTransferred: UInt64 = 0
    /// Bytes the client received (CSV `bytes_received`, analytics `rx`).
    public var bytesReceived: UInt64 = 0
    /// Whether the connection went through a relay rather than peer-to-peer.
    public var relayed: Bool = false
    /// The user's email as written in the log; empty for service-account traffic.
    public var user: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    /// The device id; empty when the log has none.
    public var device: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    /// The client's public IP as text; empty when the log has none.
    public var clientIP: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    // The Resource fields are decoded only for a sink that reads them
    // (`ConnectionEventSink.readsResources`), and are empty otherwise.

    /// The Resource's id (CSV `resource_id`, JSON `resource.id`); empty when the log names none.
    public var resourceID: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    /// The Resource's address or rule as the log names it (CSV `applied_rule`, JSON
    /// `resource.applied_rule`); empty when absent.
    public var resourceRule: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    /// The address the connection reached: the domain (CSV `resource_domain`, JSON
    /// `resource.address`), else the Resource IP the format keeps; empty when neither is given.
    public var addressReached: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    /// The Remote Network's name and id; empty when absent.
    public var network: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    public var networkID: UnsafeRawBufferPointer = .init(start: nil, count: 0)
    /// The connection's protocol (`tcp`, `udp`, …); empty when absent.
    public var transport: UnsafeRawBufferPointer = .init(start: nil, count: 0)

    /// An empty event, to be filled by a parser.
    public init() {}
}
