import HTTPTypes
import Hummingbird
import TallyAccess
import TallyStore

extension ActivityRecord {
    /// The most of `X-Tally-Context` a row keeps; a longer header, or one that is not a JSON
    /// object, is written as `{}`.
    static let maximumContextBytes = 1024
    static let contextHeader = HTTPTypes.HTTPField.Name("X-Tally-Context")!
    /// The most text a row's `params` and `resources` each keep, and each of their values: a
    /// request with a huge query (even a refused one) costs its row a few KiB at most.
    static let maximumObjectBytes = 2048
    static let maximumValueBytes = 256

    private static func bounded(_ pairs: [(String, String)]) -> String {
        JSONText.boundedObject(pairs, maximumBytes: maximumObjectBytes, maximumValueBytes: maximumValueBytes)
    }

    /// The row for one authenticated request and its answer.
    ///
    /// - Parameters:
    ///   - arrived: When the request arrived, microseconds since the epoch (the injected clock).
    ///   - durationMicros: How long it took to answer (a monotonic clock).
    init(
        request: Request, parameters: Parameters, requestUUID: String, operation: Operation, identity: Identity, account: String,
        status: HTTPResponse.Status, arrived: Int64, durationMicros: Int64
    ) {
        let token = identity.token
        var resources: [(String, String)] = []
        if let name = operation.resource {
            for (_, value) in parameters { resources.append((name, String(value))) }
        }
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let context =
            request.headers[Self.contextHeader]
            .flatMap { $0.utf8.count <= Self.maximumContextBytes ? JSONText.compactObject($0) : nil } ?? "{}"
        self.init(
            timestamp: arrived + durationMicros, requestUUID: requestUUID, requestTime: arrived, user: identity.user,
            operation: operation.rawValue, authType: identity.session != nil ? "token" : token == nil ? "none" : "secret",
            authFingerprint: token?.fingerprint ?? "",
            authValidity: token?.expiresAt.map { Int64(($0 * 1_000_000).rounded()) }, account: account, role: identity.role.rawValue,
            status: Int(status.code), durationMicros: durationMicros, resources: Self.bounded(resources),
            params: Self.bounded(query), dict: context)
    }
}
