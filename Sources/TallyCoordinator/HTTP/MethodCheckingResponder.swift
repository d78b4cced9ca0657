import Hummingbird

/// Answers a request whose path is a route but whose method is not one of that route's with
/// `405 Method Not Allowed`, an `Allow` header and a JSON reason, as HTTP says, instead of the
/// router's `404` (which would claim the path does not exist). Other requests go to the router.
struct MethodCheckingResponder<Context: RequestContext>: HTTPResponder {
    /// One route path, as segments (`{name}` matches any one segment), and its methods.
    struct Route: Sendable {
        var segments: [Substring]
        var methods: [HTTPRequest.Method]
    }

    let routes: [Route]
    let next: any HTTPResponder<Context>

    /// The router's responder, checked against the router's own route list.
    init(router: Router<Context>) {
        var byPath: [String: [HTTPRequest.Method]] = [:]
        for route in router.routes { byPath["\(route.path)", default: []].append(route.method) }
        routes = byPath.map { path, methods in
            Route(segments: path.split(separator: "/"), methods: methods.sorted { $0.rawValue < $1.rawValue })
        }
        next = router.buildResponder()
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let segments = request.uri.path.split(separator: "/")
        if let route = routes.first(where: { Self.matches($0.segments, segments) }), !route.methods.contains(request.method) {
            var error = APIError(
                .methodNotAllowed,
                "\(request.method) is not allowed on \(request.uri.path) (allowed: "
                    + route.methods.map(\.rawValue).joined(separator: ", ") + ")")
            error.headers[.allow] = route.methods.map(\.rawValue).joined(separator: ", ")
            return try error.response(from: request, context: context)
        }
        return try await next.respond(to: request, context: context)
    }

    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        guard pattern.count == path.count else { return false }
        return zip(pattern, path).allSatisfy { ($0.hasPrefix("{") && $0.hasSuffix("}")) || $0 == $1 }
    }
}
