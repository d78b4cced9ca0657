import Hummingbird
import TallyAccess
import TallyProtocol
import TallyStore

/// `/v1/activity` (exports) and `/v1/users/{user}/activity` (who is logged, and where): admin only.
struct ActivityRoutes: Sendable {
    let service: ActivityService

    func add(to router: SecuredRouter) {
        router.get("v1/activity", .getActivity) { request, _ in try export(request) }
        let users = router.group("v1/users")
        users.get(":user/activity", .getActivitySetting) { _, context in
            let user = try Self.user(context)
            return try JSONBody.make(try await userActivity(user))
        }
        users.put(":user/activity", .setActivity) { request, context in
            let user = try Self.user(context)
            let setting = try await JSONBody.decode(ActivitySetting.self, from: request)
            do {
                try await service.set(setting, for: user)
            } catch let error as ActivityError {
                throw APIError(.badRequest, error.reason, field: error.field)
            }
            return try JSONBody.make(try await userActivity(user))
        }
    }

    private func userActivity(_ user: String) async throws -> UserActivity {
        let (setting, own) = try await service.setting(of: user)
        return UserActivity(user: user, setting: setting, configured: own)
    }

    private static func user(_ context: CoordinatorRequestContext) throws -> String {
        let user = context.parameters.get("user") ?? ""
        do {
            try ActivityService.check(user: user)
        } catch {
            throw APIError(.badRequest, error.reason, field: error.field)
        }
        return user
    }

    /// CSV unless the client asks for NDJSON (`Accept: application/x-ndjson`).
    private func export(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        let accept = request.headers[values: .accept].joined(separator: ",").lowercased()
        let format: ActivityExport.Format = accept.contains("application/x-ndjson") ? .ndjson : .csv
        let export: ActivityExport
        do {
            export = try ActivityExport(
                log: query["log"].map(String.init), user: query["user"].map(String.init),
                from: query["from"].map(String.init), to: query["to"].map(String.init),
                operation: query["operation"].map(String.init), format: format)
        } catch {
            throw APIError(.badRequest, error.reason, field: error.field)
        }
        var headers = HTTPFields()
        headers[.contentType] = format.contentType
        let service = self.service
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await service.export(export) { text in try await writer.write(ByteBuffer(string: text)) }
                try await writer.finish(nil)
            })
    }
}
