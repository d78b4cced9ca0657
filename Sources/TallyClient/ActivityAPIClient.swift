import Foundation
import NIOCore
import NIOHTTP1
import TallyProtocol

/// `/v1/activity` and `/v1/users/{user}/activity` as `tally activity` and `tally user activity`
/// use them (an admin token required).
public struct ActivityAPIClient: Sendable {
    /// The coordinator.
    public let connection: CoordinatorConnection

    public init(_ connection: CoordinatorConnection) {
        self.connection = connection
    }

    /// A user's setting, and whether it was set for them.
    public func setting(of user: String) async throws -> UserActivity {
        let answer = try await connection.exchange(.GET, "/v1/users/\(CoordinatorConnection.escape(user))/activity")
        guard answer.status == 200 else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
        return try answer.decode(UserActivity.self)
    }

    /// Sets a user's setting.
    public func set(_ setting: ActivitySetting, for user: String) async throws -> UserActivity {
        let answer = try await connection.exchange(
            .PUT, "/v1/users/\(CoordinatorConnection.escape(user))/activity", body: try CoordinatorConnection.json(setting))
        guard answer.status == 200 else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
        return try answer.decode(UserActivity.self)
    }

    /// Streams an export to `write`, chunk by chunk: `ndjson` false for CSV.
    public func export(
        log: String?, user: String?, from: String?, to: String?, ndjson: Bool,
        into write: (ByteBuffer) async throws -> Void
    ) async throws {
        let query = [("log", log), ("user", user), ("from", from), ("to", to)]
            .compactMap { name, value in value.map { name + "=" + CoordinatorConnection.escape($0) } }.joined(separator: "&")
        let response = try await connection.execute(
            .GET, "/v1/activity" + (query.isEmpty ? "" : "?" + query),
            headers: [("Accept", ndjson ? "application/x-ndjson" : "text/csv")], timeout: .seconds(600))
        guard response.status.code == 200 else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let answer = CoordinatorConnection.Answer(status: Int(response.status.code), body: bytes)
            throw ClientError.refused(status: answer.status, reason: answer.reason)
        }
        for try await chunk in response.body { try await write(chunk) }
    }
}
