import Foundation
import TallyProtocol
import TallySources
import Testing

@testable import TallyCoordinator

/// Planning runs apart from everything else and gives up on a listing past its deadline.
@Suite struct PlannerTests {
    /// A TCP port that accepts connections (the kernel's backlog) but never answers.
    final class SilentServer: Sendable {
        let port: Int
        private let fd: Int32

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 16) == 0 else {
                port = 0
                throw CocoaError(.fileWriteUnknown)
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(fd) }
    }

    @Test func aListingThatNeverAnswersFailsItsJobAtTheDeadlineAndLeasesStillExpire() async throws {
        let server = try SilentServer()
        let fixture = try Fixture(leaseSeconds: 1)
        var configuration = fixture.configuration
        configuration.sources["silent"] = ConfiguredSource(
            address: SourceAddress(kind: .http, url: "http://127.0.0.1:\(server.port)/logs/"),
            format: .twingateCSV)
        configuration.listingTimeoutSeconds = 0.5
        let coordinator = try Coordinator(configuration: configuration, clock: fixture.clock)
        try await withClient(coordinator) { client in
            // A job over the working source, with a leased task.
            let good = try await submit(client)
            await coordinator.runOnce()
            let grant = try #require(try await lease(client, worker: "w1"))
            // A job over the silent one: its planning hangs until the deadline.
            let response = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: jobRequest(source: "silent"))
            let stuck = try response.decode(JobStatus.self)
            fixture.clock.advance(by: 2)
            async let planning: Void = coordinator.planner().runOnce()
            // Meanwhile the scheduler runs on its own: the lease expires on time.
            await coordinator.scheduler().runOnce()
            try expectError(try await heartbeat(client, grant.leaseId), .gone, field: "lease")
            await planning
            let failed = try await getJob(client, stuck.id)
            #expect(failed.state == .failed)
            #expect(failed.error?.contains("no listing within") == true, "\(failed.error ?? "-")")
            #expect(try await getJob(client, good.id).state == .running)
        }
        // The planning service shuts its client down when it stops; stepped by hand, the test does.
        try await coordinator.sources.shutdown()
    }
}
