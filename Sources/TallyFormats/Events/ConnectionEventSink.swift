/// Receives the events a `LogObjectReader` decodes. Generic (not a closure) so the call is
/// specialised and inlined into the read loop.
public protocol ConnectionEventSink {
    /// Called once per well-formed connection-ending record. The event's byte fields are valid
    /// only during the call.
    mutating func receive(_ event: ConnectionEvent)

    /// Whether the sink reads the event's Resource fields (`resourceID` … `transport`): the
    /// parsers decode them only then, so a report by user pays nothing for them.
    var readsResources: Bool { get }
}

extension ConnectionEventSink {
    /// A sink reads no Resource field unless it says so.
    public var readsResources: Bool { false }
}
