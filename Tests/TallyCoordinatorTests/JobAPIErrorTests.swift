import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// Every bad request to `/v1/jobs` gets a 4xx with a JSON body naming the field at fault.
@Suite struct JobAPIErrorTests {
    /// Bodies hold exactly the documented keys: an unknown key or a `null` is a 400 naming it, and
    /// a body declared as another media type, or not declared at all, is a 415.
    @Test func bodiesWithUnknownKeysNullsOrOtherMediaTypesAreRefused() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            func post(_ uri: String, _ body: String, contentType: String? = "application/json") async throws -> TestResponse {
                var headers = HTTPFields()
                if let contentType { headers[.contentType] = contentType }
                return try await client.execute(uri: uri, method: .post, headers: headers, body: json(body))
            }
            let job = #"{"report":"active-users","source":"local","from":"2026-10-01T00:00:00Z","to":"2026-10-02T00:00:00Z""#
            try expectError(try await post("/v1/jobs", job + #","priority":1}"#), .badRequest, field: "priority", containing: "unknown")
            try expectError(try await post("/v1/jobs", job + #","timezone":null}"#), .badRequest, field: "timezone", containing: "null")
            try expectError(try await post("/v1/jobs", "[1]"), .badRequest, field: nil)
            try expectError(try await post("/v1/jobs", job + "}", contentType: "text/plain"), .unsupportedMediaType, field: nil)
            // No Content-Type: what a page's cross-site form or `fetch` without a preflight sends.
            try expectError(
                try await post("/v1/jobs", job + "}", contentType: nil), .unsupportedMediaType, field: nil,
                containing: "Content-Type: application/json")
            try expectError(
                try await post("/v1/tokens", #"{"user":"eve","role":"admin"}"#, contentType: nil), .unsupportedMediaType, field: nil)
            #expect(try await client.execute(uri: "/v1/tokens", method: .get).decode(TokenList.self).tokens.isEmpty)
            #expect(try await post("/v1/jobs", job + "}", contentType: "application/json; charset=utf-8").status == .accepted)
            try expectError(
                try await post("/v1/worker/lease", #"{"worker":"w","protocol_version":2,"protocolVersion":2}"#),
                .badRequest, field: "protocolVersion")
            try expectError(try await post("/v1/worker/leases/abc/failure", #"{"reason":"x","extra":true}"#), .badRequest, field: "extra")
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            try expectError(
                try await client.execute(uri: "/v1/worker/leases/abc/partial", method: .put, headers: headers, body: json("{}")),
                .unsupportedMediaType, field: nil)
            try expectError(try await client.execute(uri: "/v1/jobs?before=-1", method: .get), .badRequest, field: "before")
        }
    }

    @Test func submitRejectsBadRequestsNamingTheField() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            func post(_ body: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body))
            }
            try expectError(try await post("{not json"), .badRequest, field: nil)
            try expectError(
                try await post(#"{"report":"active-users","from":"2026-10-01T00:00:00Z","to":"2026-10-02T00:00:00Z"}"#),
                .badRequest, field: "source", containing: "missing")
            try expectError(
                try await post(#"{"report":"active-users","source":"local","from":"2026-10-01T00:00:00Z","to":5}"#),
                .badRequest, field: "to")
            try expectError(
                try await post(#"{"report":"top-talkers","source":"local","from":"2026-10-01T00:00:00Z","to":"2026-10-02T00:00:00Z"}"#),
                .badRequest, field: "report", containing: "top-talkers")
            try expectError(
                try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: jobRequest(source: "prod")),
                .badRequest, field: "source", containing: "prod")
            try expectError(
                try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: jobRequest(to: windowFrom)),
                .badRequest, field: "to")
            try expectError(
                try await client.execute(
                    uri: "/v1/jobs", method: .post,
                    headers: jsonHeaders, body: jobRequest(from: "2026-10-02T00:00:00Z", to: "2026-10-01T00:00:00Z")),
                .badRequest, field: "to")
            try expectError(
                try await client.execute(
                    uri: "/v1/jobs", method: .post,
                    headers: jsonHeaders, body: jobRequest(from: "2025-01-01T00:00:00Z", to: "2026-02-06T00:00:00Z")),
                .badRequest, field: "to", containing: "400 days")
            try expectError(
                try await client.execute(
                    uri: "/v1/jobs", method: .post,
                    headers: jsonHeaders, body: jobRequest(from: "2026-10-01", to: "2026-10-02", timezone: "Mars/Olympus_Mons")),
                .badRequest, field: "timezone", containing: "Mars/Olympus_Mons")
            try expectError(
                try await client.execute(
                    uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: jobRequest(from: "2026-10-01", to: "2026-10-02")),
                .badRequest, field: "from", containing: "time zone")
            try expectError(
                try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: jobRequest(from: "yesterday")),
                .badRequest, field: "from")

            // Nothing was accepted.
            let list = try await client.execute(uri: "/v1/jobs", method: .get).decode(JobList.self)
            #expect(list.jobs.isEmpty)
        }
    }

    @Test func localDatesWithATimeZoneAreAccepted() async throws {
        let fixture = try Fixture()
        try await withClient(try fixture.coordinator()) { client in
            let response = try await client.execute(
                uri: "/v1/jobs", method: .post,
                headers: jsonHeaders, body: jobRequest(from: "2026-10-01", to: "2026-10-02", timezone: "Europe/Paris"))
            #expect(response.status == .accepted)
            let job = try response.decode(JobStatus.self)
            #expect(job.windowFrom == "2026-09-30T22:00:00Z")
            #expect(job.windowTo == "2026-10-01T22:00:00Z")
            #expect(job.timezone == "Europe/Paris")
        }
    }

    @Test func unknownJobsAre404() async throws {
        let fixture = try Fixture()
        try await withClient(try fixture.coordinator()) { client in
            try expectError(try await client.execute(uri: "/v1/jobs/nosuchjob", method: .get), .notFound, field: "id")
            try expectError(try await client.execute(uri: "/v1/jobs/nosuchjob", method: .delete), .notFound, field: "id")
            try expectError(try await client.execute(uri: "/v1/jobs/nosuchjob/result", method: .get), .notFound, field: "id")
        }
    }

    @Test func resultOfAnUnfinishedJobIs409() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let job = try await submit(client)
            try expectError(
                try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get), .conflict, field: "id", containing: "queued")
            await coordinator.runOnce()
            #expect(try await getJob(client, job.id).state == .running)
            try expectError(
                try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get), .conflict, field: "id", containing: "running")
        }
    }

    @Test func cancellingTwiceIs409() async throws {
        let fixture = try Fixture()
        try await withClient(try fixture.coordinator()) { client in
            let job = try await submit(client)
            let first = try await client.execute(uri: "/v1/jobs/\(job.id)", method: .delete)
            #expect(first.status == .ok)
            #expect(try first.decode(JobStatus.self).state == .cancelled)
            try expectError(
                try await client.execute(uri: "/v1/jobs/\(job.id)", method: .delete), .conflict, field: "id", containing: "cancelled")
            #expect(try await getJob(client, job.id).state == .cancelled)
        }
    }

    @Test func listingRejectsBadPaging() async throws {
        let fixture = try Fixture()
        try await withClient(try fixture.coordinator()) { client in
            try expectError(try await client.execute(uri: "/v1/jobs?limit=0", method: .get), .badRequest, field: "limit")
            try expectError(try await client.execute(uri: "/v1/jobs?limit=abc", method: .get), .badRequest, field: "limit")
            try expectError(try await client.execute(uri: "/v1/jobs?limit=201", method: .get), .badRequest, field: "limit")
            try expectError(try await client.execute(uri: "/v1/jobs?before=xyz", method: .get), .badRequest, field: "before")
        }
    }

    /// `max_malformed_share`: input more broken than the request allows fails the job with the
    /// share and the first sample; within the ceiling the job succeeds as usual.
    @Test func aJobOverItsMalformedCeilingFailsWithTheShare() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            func submit(share: Double) async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/jobs", method: .post, headers: jsonHeaders,
                    body: json(
                        #"{"report":"active-users","source":"local","from":"2026-10-01T00:00:00Z","to":"2026-10-02T00:00:00Z","max_malformed_share":\#(share)}"#
                    ))
            }
            try expectError(try await submit(share: 1.5), .badRequest, field: "max_malformed_share")
            let strict = try await submit(share: 0.05).decode(JobStatus.self)
            let lenient = try await submit(share: 0.2).decode(JobStatus.self)
            await coordinator.runOnce()
            try await workUntilNoTasks(client)
            await coordinator.runOnce()
            let failed = try await getJob(client, strict.id)
            #expect(failed.state == .failed)
            #expect(
                failed.error
                    == "1 of 10 lines are malformed (10.0 %), more than the job allows (5.0 %); first: 2026-10-01T10.csv line 6: field_count",
                "\(failed.error ?? "-")")
            #expect(try await getJob(client, lenient.id).state == .succeeded)
        }
    }
}
