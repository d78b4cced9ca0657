import HTTPTypes
import Hummingbird
import Synchronization
import TallyAccess
import TallyProtocol

/// Which operation each authenticated route performs, filled as the routes are registered
/// (`SecuredRouter`): a route and its operation, and so the roles that may call it
/// (`Operation.allowedRoles`), are one declaration. `AuthenticationMiddleware` enforces it, and
/// docs/security.md's role table is made from it (a test fails when they differ).
final class RoleTable: Sendable {
    /// One route: method, path as the router reports it (`/v1/jobs/{id}`), operation.
    struct Entry: Sendable, Equatable {
        var method: HTTPRequest.Method
        var path: String
        var operation: Operation
    }

    private let entries = Mutex<[Entry]>([])

    init() {}

    /// Records a route; registering one twice is a programming error the router reports too.
    func add(method: HTTPRequest.Method, path: String, operation: Operation) {
        entries.withLock { $0.append(Entry(method: method, path: Self.normalized(path), operation: operation)) }
    }

    /// The operation of a matched route (`context.endpointPath`); nil for one nobody declared.
    func operation(method: HTTPRequest.Method, route: String) -> Operation? {
        let path = Self.normalized(route)
        return entries.withLock { $0.first { $0.method == method && $0.path == path }?.operation }
    }

    /// Every route, in registration order.
    var all: [Entry] { entries.withLock { $0 } }

    /// The table of docs/security.md, one row per route: operation, method and path, roles; the
    /// API first, then the pages, each by path.
    var markdown: String {
        var lines = ["| operation | route | roles |", "|---|---|---|"]
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete]
        let ordered = all.sorted {
            (Operation.isPage(route: $0.path) ? 1 : 0, $0.path, methods.firstIndex(of: $0.method) ?? 9)
                < (Operation.isPage(route: $1.path) ? 1 : 0, $1.path, methods.firstIndex(of: $1.method) ?? 9)
        }
        for entry in ordered {
            let roles = Role.allCases.filter(entry.operation.allowedRoles.contains).map(\.rawValue).joined(separator: ", ")
            lines.append("| `\(entry.operation.rawValue)` | `\(entry.method) \(entry.path)` | \(roles) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `/v1/jobs/{id}` for `v1/jobs/:id`, `/v1/jobs/{id}` and `/v1/jobs/{id}/`.
    static func normalized(_ path: String) -> String {
        "/" + RouterPath(path).description.split(separator: "/").joined(separator: "/")
    }
}
