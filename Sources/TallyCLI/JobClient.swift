import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TallyProtocol
import TallyWorker

/// The job API as the CLI uses it.
struct JobClient {
    let baseURL: String

    init(baseURL: String) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
    }

    private func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, acceptGzip: Bool = false) async throws -> (Int, HTTPClientResponse) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        if acceptGzip { request.headers.add(name: "Accept-Encoding", value: "gzip") }
        do {
            let response = try await CoordinatorHTTPClient.shared.execute(request, timeout: .seconds(60))
            return (Int(response.status.code), response)
        } catch {
            throw JobError(reason: "cannot reach the coordinator at \(baseURL): \(error)")
        }
    }

    private func json<T: Decodable>(_ type: T.Type, _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, expect: Set<Int>) async throws -> T {
        let (status, response) = try await send(method, path, body: body)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let data = Data(bytes.readableBytesView)
        guard expect.contains(status) else {
            let reason = (try? TallyJSON.decoder().decode(APIErrorBody.self, from: data).error) ?? String(decoding: data, as: UTF8.self)
            throw JobError(reason: "coordinator answered \(status): \(reason)")
        }
        return try TallyJSON.decoder().decode(T.self, from: data)
    }

    func submit(_ request: JobRequest) async throws -> JobStatus {
        try await json(JobStatus.self, .POST, "/v1/jobs", body: Array(try TallyJSON.encoder().encode(request)), expect: [202])
    }

    func status(_ id: String) async throws -> JobStatus {
        try await json(JobStatus.self, .GET, "/v1/jobs/\(id)", expect: [200])
    }

    func list(limit: Int, before: String?) async throws -> JobList {
        try await json(JobList.self, .GET, "/v1/jobs?limit=\(limit)" + (before.map { "&before=\($0)" } ?? ""), expect: [200])
    }

    func cancel(_ id: String) async throws -> JobStatus {
        try await json(JobStatus.self, .DELETE, "/v1/jobs/\(id)", expect: [200])
    }

    /// Streams the CSV result to a file (atomically).
    func fetch(_ id: String, to path: String) async throws {
        let (status, response) = try await send(.GET, "/v1/jobs/\(id)/result")
        guard status == 200 else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let reason = (try? TallyJSON.decoder().decode(APIErrorBody.self, from: Data(bytes.readableBytesView)).error) ?? "HTTP \(status)"
            throw JobError(reason: "cannot fetch the result of job \(id): \(reason)")
        }
        try await AtomicFile.stream(to: path) { write in
            for try await chunk in response.body { try write(chunk.readableBytesView) }
        }
    }
}

/// The coordinator URL option shared by the client commands.
struct CoordinatorOptions: ParsableArguments {
    @Option(help: "Coordinator URL (default: $TALLY_COORDINATOR, else http://127.0.0.1:8080).")
    var coordinator: String?

    /// The URL in force.
    var url: String {
        coordinator ?? ProcessInfo.processInfo.environment["TALLY_COORDINATOR"] ?? "http://127.0.0.1:8080"
    }

    /// A client of that coordinator.
    var client: JobClient { JobClient(baseURL: url) }
}
