import TallyFormats

/// One task's aggregation, fed object by object with bytes the caller reads: the engine's side
/// of running a task. It does no I/O, so the same code serves a worker streaming from a source
/// and a test or benchmark feeding bytes it holds.
///
/// ```
/// var aggregation = TaskAggregation(window: window)
/// for object in task.objects {
///     let reader = aggregation.startObject(named: object.name, format: format)
///     for chunk in bytes(of: object) { try aggregation.consume(chunk, of: reader) }
///     try aggregation.finishObject(reader)
/// }
/// let upload = aggregation.encodedPartial()
/// ```
public struct TaskAggregation {
    /// The per-row state events go to.
    public private(set) var aggregator: RowAggregator
    /// What reading the finished objects found.
    public private(set) var statistics = ReadStatistics()

    /// An empty aggregation for `window`, its rows as `shape` says.
    public init(window: ReportWindow, shape: ReportShape = .byUser) {
        aggregator = RowAggregator(window: window, shape: shape)
    }

    /// A reader for the next object; its bytes go through `consume(_:of:)`.
    public func startObject(named name: String, format: LogFormat) -> LogObjectReader {
        LogObjectReader(objectName: name, format: format)
    }

    /// Feeds the next chunk of the object `reader` reads.
    @inline(__always)
    public mutating func consume(_ chunk: UnsafeRawBufferPointer, of reader: LogObjectReader) throws {
        try reader.consume(chunk, into: &aggregator)
    }

    /// Ends the object: its last line is parsed, a gzip stream checked for completeness, and its
    /// figures added to `statistics`.
    public mutating func finishObject(_ reader: LogObjectReader) throws {
        try reader.finish(into: &aggregator)
        statistics.objects += 1
        statistics.bytes += reader.rawBytes
        statistics.lines.add(reader.statistics)
    }

    /// The task's partial.
    public func partial() -> Partial {
        aggregator.makePartial(statistics: statistics)
    }

    /// The task's partial, encoded for upload (the bytes `partial().encoded()` gives; see
    /// `RowAggregator.encodedPartial`).
    public func encodedPartial() -> [UInt8] {
        aggregator.encodedPartial(statistics: statistics)
    }
}
