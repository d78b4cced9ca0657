import TallyFormats
import TallyReport
import TallySketches

#if canImport(Glibc)
    import Glibc
#endif

/// What every fuzz target checks: hostile bytes are parsed, counted as malformed or refused
/// with an error; they never crash the process, and whatever is accepted is consistent (an
/// aggregated partial decodes again, a decoded partial or sketch re-encodes to itself).
public enum FuzzHarness {
    /// A fuzz target's body: the input, and 0.
    public typealias Target = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Hands `target` to libFuzzer's driver with the process's arguments and exits with its
    /// status. (SwiftPM points an executable's `main` at the Swift entry point, so the target
    /// starts libFuzzer itself rather than relying on libFuzzer's own `main`.)
    public static func main(_ target: Target) -> Never {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        let status = withUnsafeMutablePointer(to: &argc) { argcPointer in
            withUnsafeMutablePointer(to: &argv) { argvPointer in
                LLVMFuzzerRunDriver(argcPointer, argvPointer, target)
            }
        }
        exit(status)
    }

    /// The bytes of one input.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    }

    /// A year around the fuzzers' favourite timestamps, so some events land in the window.
    static let window = try! ReportWindow(from: 1_704_067_200_000_000, to: 1_735_689_600_000_000)

    /// Reads `bytes` as one object of `format`, in two chunks (a chunk boundary mid-record).
    public static func read(_ bytes: UnsafeRawBufferPointer, format: LogFormat) {
        var aggregation = TaskAggregation(window: window)
        let reader = aggregation.startObject(named: "fuzz", format: format)
        let middle = bytes.count / 2
        do {
            try aggregation.consume(UnsafeRawBufferPointer(rebasing: bytes[..<middle]), of: reader)
            try aggregation.consume(UnsafeRawBufferPointer(rebasing: bytes[middle...]), of: reader)
            try aggregation.finishObject(reader)
        } catch {
            return  // refused whole: a corrupt stream, an over-long line
        }
        let encoded = aggregation.encodedPartial()
        guard let decoded = try? Partial(encoded: encoded), decoded.encoded() == encoded else {
            fatalError("a partial aggregated from input does not decode to itself")
        }
    }

    /// Reads `bytes` as the body of a gzip stream of Twingate CSV.
    public static func readGzip(_ bytes: UnsafeRawBufferPointer) {
        var framed: [UInt8] = [0x1F, 0x8B]
        framed.append(contentsOf: bytes)
        framed.withUnsafeBytes { read($0, format: .twingateCSV) }
    }

    /// Decodes `bytes` as a partial; one that decodes must re-encode to the same bytes.
    public static func decodePartial(_ bytes: UnsafeRawBufferPointer) {
        guard let partial = try? Partial(encoded: Array(bytes)) else { return }
        guard let again = try? Partial(encoded: partial.encoded()), again.encoded() == partial.encoded() else {
            fatalError("a decoded partial does not re-encode to itself")
        }
    }

    /// Decodes `bytes` as each sketch; one that decodes must serialize and decode again.
    public static func decodeSketches(_ bytes: UnsafeRawBufferPointer) {
        let array = Array(bytes)
        if let counter = try? DistinctCounter(serialized: array) {
            guard let again = try? DistinctCounter(serialized: counter.serialized()), again.count == counter.count else {
                fatalError("a decoded distinct counter does not round-trip")
            }
        }
        if let top = try? HeavyHitters<[UInt8]>(serialized: array) {
            guard (try? HeavyHitters<[UInt8]>(serialized: top.serialized())) != nil else {
                fatalError("a decoded heavy-hitters summary does not round-trip")
            }
        }
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: FuzzHarness.Target
) -> CInt
