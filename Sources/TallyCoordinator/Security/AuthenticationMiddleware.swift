import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import TallyAccess
import TallyProtocol
import TallyServices
import TallyStore

/// The one place requests are authenticated, held to the role table (`Operation`) and written
/// to the activity log: runs after routing (it is added to the router after `/healthz`, before
/// every other route), so it knows which operation a request performs.
///
/// Missing, unknown, expired or revoked secret → `401` (counted, logged and throttled per client:
/// `AuthenticationFailures`); a role the operation does not allow → `403`; a route with no
/// operation in the role table → `403` (it fails closed); all with a JSON reason. A coordinator
/// whose store holds no token at all serves every request as an admin: it listens on loopback
/// only (`Coordinator.checkListenAddress`) and refuses what a web page could send
/// (`OpenModeGuard`).
///
/// Every answer carries `X-Request-Id`; the answers to authenticated requests (a `403`
/// included) become one activity row each, with that id. Requests refused before they were
/// authenticated are only counted (`tally_api_unauthenticated_total`): no user to file them under.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    /// The operation of every route behind this middleware (`SecuredRouter`).
    let table: RoleTable
    let tokens: any TokenStore
    let sessions: any SessionStore
    let clock: any CoordinatorClock
    let activity: ActivityRecorder
    let unauthenticated: Metrics.Counter
    let failures: AuthenticationFailures
    /// The address the coordinator listens on (a `Host` the open mode accepts).
    let listenHost: String
    let logger: Logger

    static let requestIdHeader = HTTPTypes.HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = context.endpointPath.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? ""
        // No route matched: the router answers 404 (or 405).
        guard context.endpointPath != nil else { return try await next(request, context) }
        guard let operation = table.operation(method: request.method, route: route) else {
            // Every route behind this middleware must be in the role table; one that is not is
            // refused rather than served with the open identity's admin role.
            logger.error("route without an operation refused", metadata: ["route": "\(request.method) \(route)"])
            return try APIError(.forbidden, "\(request.method) \(route) has no operation in the role table; it is refused")
                .response(from: request, context: context)
        }
        let requestUUID = UUID().uuidString.lowercased()
        let arrived = Int64((clock.now() * 1_000_000).rounded())
        let started = ContinuousClock.now
        var context = context
        context.operation = operation
        do {
            try failures.checkNotThrottled(client: context.clientAddress)
            context.identity = try await authenticate(request, page: Operation.isPage(route: route), client: context.clientAddress)
        } catch {
            unauthenticated.increment()
            // A page without a session sends the browser to sign in.
            if Operation.isPage(route: route) {
                return WebPage.redirect(to: "/sign-in", clearingSession: request.cookies[WebSessionCookie.name] != nil)
            }
            return try answer(error, to: request, context: context, requestUUID: requestUUID)
        }
        var response: Response
        do {
            // The open mode (no token exists, loopback only) allows everything a web page cannot send.
            if context.identity.token == nil { try OpenModeGuard.check(request, listenHost: listenHost) }
            guard context.identity.token == nil || operation.allowedRoles.contains(context.identity.role) else {
                throw APIError(
                    .forbidden,
                    "the \(context.identity.role.rawValue) role may not \(operation.rawValue); it needs "
                        + Role.allCases.filter(operation.allowedRoles.contains).map(\.rawValue).joined(separator: " or "))
            }
            response = try await next(request, context)
            response.headers[Self.requestIdHeader] = requestUUID
        } catch {
            response =
                Operation.isPage(route: route)
                ? WebPage.error(error, requestUUID: requestUUID, logger: logger)
                : try answer(error, to: request, context: context, requestUUID: requestUUID)
            response.headers[Self.requestIdHeader] = requestUUID
        }
        let elapsed = ContinuousClock.now - started
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        // A store that cannot be read names no account; the row is still kept.
        let account = (try? await activity.store.account) ?? ""
        activity.record(
            ActivityRecord(
                request: request, parameters: context.parameters, requestUUID: requestUUID, operation: operation,
                identity: context.identity, account: account, status: response.status,
                arrived: arrived, durationMicros: micros))
        return response
    }

    /// The error as the client sees it, with the request id; an error that is not an HTTP answer
    /// is logged (under the same id) and answered `500`.
    private func answer(_ error: any Error, to request: Request, context: Context, requestUUID: String) throws -> Response {
        var response: Response
        if let error = error as? any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } else {
            logger.error("request failed", metadata: ["request_id": "\(requestUUID)", "error": "\(error)"])
            response = try APIError(.internalServerError, "internal error (request \(requestUUID))").response(
                from: request, context: context)
        }
        response.headers[Self.requestIdHeader] = requestUUID
        return response
    }

    private func authenticate(_ request: Request, page: Bool, client: String) async throws -> Identity {
        guard let header = request.headerValue("Authorization") else {
            // A browser's session cookie: the pages, and the API's reads (what the pages' scripts
            // poll). Changes through the API need a bearer secret, so a cookie a browser sends on
            // its own never changes anything outside a page's form (which carries its form token).
            if let cookie = request.cookies[WebSessionCookie.name], page || request.method == .get || request.method == .head {
                guard let session = try await sessions.session(idHash: TokenSecret.hash(cookie.value), now: clock.now()) else {
                    failures.record(client: client, reason: "session", message: "unknown or ended session")
                    throw APIError(.unauthorized, "the session has ended; sign in again")
                }
                return Identity(token: session.token, session: session)
            }
            guard try await tokens.hasTokens() else { return .open }
            throw APIError(.unauthorized, "missing Authorization: Bearer <secret> header")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            failures.record(client: client, reason: "malformed", message: "Authorization header not 'Bearer <secret>'")
            throw APIError(.unauthorized, "the Authorization header must be 'Bearer <secret>'")
        }
        return Identity(
            token: try await Self.token(secret: String(parts[1]), in: tokens, now: clock.now(), failures: failures, client: client))
    }

    /// The valid token a secret names, or `401` saying why not, the refusal recorded (shared
    /// with the sign-in form).
    static func token(
        secret: String, in tokens: any TokenStore, now: Double, failures: AuthenticationFailures,
        client: String
    ) async throws -> AccessToken {
        func refuse(_ reason: String, _ message: String) -> APIError {
            failures.record(client: client, reason: reason, message: message)
            return APIError(.unauthorized, message)
        }
        let hash = TokenSecret.hash(secret)
        guard let (token, stored) = try await tokens.token(secretHash: hash), TokenSecret.constantTimeEqual(hash, stored) else {
            throw refuse("unknown", "unknown secret")
        }
        if token.revokedAt != nil { throw refuse("revoked", "the secret ending \(token.fingerprint) was revoked") }
        guard token.isValid(at: now) else { throw refuse("expired", "the secret ending \(token.fingerprint) has expired") }
        return token
    }
}
