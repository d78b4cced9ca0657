/// Receives the events a `LogObjectReader` decodes. Generic (not a closure) so the call is
/// specialised and inlined into the read loop.
public protocol ConnectionEventSink {
    /// Called once per well-formed connection-ending record. The event's byte fields are valid
    /// only during the call.
    mutating func receive(_ event: ConnectionEvent)
}
