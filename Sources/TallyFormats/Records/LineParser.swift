/// Decodes single lines of one log format into connection events.
public protocol LineParser {
    /// Parses one line (without its line end). On `.event` the event is filled in, its Resource
    /// fields only with `resources`; its byte fields stay valid until the next call.
    mutating func parse(_ line: UnsafeRawBufferPointer, into event: inout ConnectionEvent, resources: Bool) -> LineVerdict
}
