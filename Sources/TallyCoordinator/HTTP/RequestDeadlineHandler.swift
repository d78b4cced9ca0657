import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow: a first request head not complete within
/// `headSeconds` of connecting (a client sending a byte a second never completes one, and the
/// idle timeout alone would never fire), a later one not within `keepAliveSeconds` of the previous
/// response (the clients' connection pools keep idle connections that long), or a body not
/// complete within `bodySeconds` of its head, or a body bringing fewer than `minimumBodyRate`
/// bytes a second over any `rateWindowSeconds` (a client trickling a byte every few seconds is
/// cut after one window, not after `bodySeconds`). Slow clients cannot hold connections (nor
/// the upload slots bodies take) for ever.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let headSeconds: Double
    private let bodySeconds: Double
    private let keepAliveSeconds: Double
    private var deadline: Scheduled<Void>?
    private let minimumBodyRate: Int
    private let rateWindowSeconds: Double
    /// Body bytes received in the current rate window, and its check.
    private var windowBytes = 0
    private var rateCheck: Scheduled<Void>?
    /// The request asked for the connection to close after its answer.
    private var closing = false

    /// How long a connection whose client asked for `Connection: close` may stay after the
    /// answer: a client still sending a body the coordinator refused does not hold it longer.
    static let lingerSeconds: Double = 2

    init(headSeconds: Double, bodySeconds: Double, keepAliveSeconds: Double, minimumBodyRate: Int = 0, rateWindowSeconds: Double = 10) {
        self.headSeconds = headSeconds
        self.bodySeconds = bodySeconds
        self.keepAliveSeconds = keepAliveSeconds
        self.minimumBodyRate = minimumBodyRate
        self.rateWindowSeconds = rateWindowSeconds
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(headSeconds, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        rateCheck?.cancel()
        rateCheck = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            closing = head.headerFields[.connection]?.lowercased().contains("close") ?? false
            arm(bodySeconds, context: context)
            windowBytes = 0
            armRateCheck(context: context)
        case .end:
            deadline?.cancel()
            deadline = nil
            rateCheck?.cancel()
            rateCheck = nil
        case .body(let bytes):
            windowBytes += bytes.readableBytes
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The response is done: the next request's head has its own deadline.
        if case .end = unwrapOutboundIn(data) {
            arm(closing ? min(Self.lingerSeconds, keepAliveSeconds) : keepAliveSeconds, context: context)
        }
        context.write(data, promise: promise)
    }

    /// Checks the body's rate at the end of each window while the body arrives.
    private func armRateCheck(context: ChannelHandlerContext) {
        rateCheck?.cancel()
        guard minimumBodyRate > 0 else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        rateCheck = context.eventLoop.scheduleTask(in: .milliseconds(Int64(rateWindowSeconds * 1000))) {
            let (handler, context) = bound.value
            guard Double(handler.windowBytes) >= Double(handler.minimumBodyRate) * handler.rateWindowSeconds else {
                context.close(promise: nil)
                return
            }
            handler.windowBytes = 0
            handler.armRateCheck(context: context)
        }
    }

    private func arm(_ seconds: Double, context: ChannelHandlerContext) {
        deadline?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            bound.value.close(promise: nil)
        }
    }
}
