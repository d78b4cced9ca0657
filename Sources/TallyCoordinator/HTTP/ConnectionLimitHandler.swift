import NIOCore
import Synchronization

/// Open client connections, in all and per client address, shared by every connection's
/// `ConnectionLimitHandler`.
final class ConnectionCount: Sendable {
    let limit: Int
    /// Connections one address may hold (`max_connections_per_client`).
    let perClient: Int
    private struct Open {
        var total = 0
        var byClient: [String: Int] = [:]
    }
    private let open = Mutex(Open())

    init(limit: Int, perClient: Int = .max) {
        self.limit = limit
        self.perClient = perClient
    }

    /// Counts a new connection from `client` in; false (and not counted) when `limit` are
    /// already open, or `perClient` from that address.
    func enter(client: String) -> Bool {
        open.withLock { open in
            guard open.total < limit, open.byClient[client, default: 0] < perClient else { return false }
            open.total += 1
            open.byClient[client, default: 0] += 1
            return true
        }
    }

    func leave(client: String) {
        open.withLock { open in
            open.total -= 1
            let left = open.byClient[client, default: 1] - 1
            open.byClient[client] = left > 0 ? left : nil
        }
    }

    /// Connections open now.
    var current: Int { open.withLock { $0.total } }
}

/// Closes a connection accepted while `max_connections` are already open, or while its client
/// address already holds `max_connections_per_client`, before it can read a byte: a flood of
/// idle connections cannot exhaust the coordinator's file descriptors and memory, one client
/// cannot take every place, and those already open keep being served.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let count: ConnectionCount
    /// The address counted, while counted.
    private var client: String?

    init(count: ConnectionCount) {
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        guard count.enter(client: address) else {
            context.close(promise: nil)
            return
        }
        client = address
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let client { count.leave(client: client) }
        client = nil
    }
}
