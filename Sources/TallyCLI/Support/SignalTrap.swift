import Dispatch
import Foundation

/// Runs a handler when one of the signals arrives (instead of the default termination), so
/// `tally run` can stop its worker processes on Ctrl-C.
struct SignalTrap {
    private let sources: [any DispatchSourceSignal]

    static func install(_ signals: [Int32], handler: @escaping @Sendable () -> Void) -> SignalTrap {
        let sources = signals.map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
        return SignalTrap(sources: sources)
    }

    /// Restores the default handling.
    func cancel() {
        for source in sources {
            source.cancel()
        }
    }
}
