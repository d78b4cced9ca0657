import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import TallyCoordinator

/// `/readyz` tells a load balancer whether a replica reaches its store; `/healthz` only that it
/// runs. A replica whose PostgreSQL is gone must leave the rotation, not serve 500s.
struct ReadinessTests {
    @Test func aReplicaThatReachesItsStoreIsReady() async throws {
        let fixture = try Fixture()
        try await withClient(try fixture.coordinator()) { client in
            // A new PostgreSQL schema is ready once migrated, which may outlast one probe.
            try await eventually("readiness") { try await client.execute(uri: "/readyz", method: .get).status == .ok }
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.text == "ready\n")
            #expect(ready.headers[.contentType]?.hasPrefix("text/plain") == true)
        }
    }

    @Test func aReplicaWhosePostgreSQLIsUnreachableIsNotReadyButAlive() async throws {
        let fixture = try Fixture()
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let coordinator = try fixture.coordinator {
            $0.store = .postgres(url: "postgres://tally@127.0.0.1:1/tally?sslmode=disable", passwordFile: nil)
        }
        try await withClient(coordinator) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }
}
