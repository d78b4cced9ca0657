import NIOCore
import Synchronization

/// Open client connections, shared by every connection's `ConnectionLimitHandler`.
final class ConnectionCount: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection in; false (and not counted) when `limit` are already open.
    func enter() -> Bool {
        let now = open.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= limit else {
            open.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Connections open now.
    var current: Int { open.load(ordering: .relaxed) }
}

/// Closes a connection accepted while `max_connections` are already open, before it can read a
/// byte: a flood of idle connections cannot exhaust the coordinator's file descriptors and
/// memory, and those already open keep being served.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let count: ConnectionCount
    private var counted = false

    init(count: ConnectionCount) {
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard count.enter() else {
            context.close(promise: nil)
            return
        }
        counted = true
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted { count.leave() }
        counted = false
    }
}
