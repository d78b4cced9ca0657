import NIOHTTP1
import TallyProtocol

/// `/v1/schedules` as `tally schedule` uses it (an admin token required).
public struct ScheduleAPIClient: Sendable {
    public let connection: CoordinatorConnection

    public init(_ connection: CoordinatorConnection) {
        self.connection = connection
    }

    public func create(_ request: ScheduleRequest) async throws -> ScheduleInfo {
        let answer = try await connection.exchange(.POST, "/v1/schedules", body: try CoordinatorConnection.json(request))
        guard answer.status == 201 else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
        return try answer.decode(ScheduleInfo.self)
    }

    public func list() async throws -> [ScheduleInfo] {
        let answer = try await connection.exchange(.GET, "/v1/schedules")
        guard answer.status == 200 else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
        return try answer.decode(ScheduleList.self).schedules
    }

    public func delete(_ idOrName: String) async throws {
        let answer = try await connection.exchange(.DELETE, "/v1/schedules/\(CoordinatorConnection.escape(idOrName))")
        guard answer.status == 204 else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
    }
}
