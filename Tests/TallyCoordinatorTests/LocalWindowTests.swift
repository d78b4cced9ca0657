import Foundation
import Hummingbird
import HummingbirdTesting
import TallyProtocol
import Testing

@testable import TallyCoordinator

/// A job's window shown in UTC and in the requester's zone, with a note for a bound the zone
/// skips or repeats.
@Suite struct LocalWindowTests {
    @Test func theStatusShowsTheWindowInBothAndSaysWhichInstantWasUsed() async throws {
        let fixture = try Fixture()
        let coordinator = try fixture.coordinator()
        try await withClient(coordinator) { client in
            let body =
                #"{"report":"active-users","source":"local","from":"2026-03-08T02:30","to":"2026-11-01T01:30","timezone":"America/New_York"}"#
            let status = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(body)).decode(
                JobStatus.self)
            #expect(status.windowFrom == "2026-03-08T07:30:00Z" && status.windowTo == "2026-11-01T05:30:00Z")
            #expect(status.windowFromLocal == "2026-03-08T03:30:00-04:00" && status.windowToLocal == "2026-11-01T01:30:00-04:00")
            let notes = try #require(status.windowNotes)
            #expect(notes.count == 2)
            #expect(
                notes[0].contains("from 2026-03-08T02:30 does not exist in America/New_York")
                    && notes[0].contains("used 2026-03-08T07:30:00Z"))
            #expect(notes[1].contains("to 2026-11-01T01:30 happens twice") && notes[1].contains("used the first, 2026-11-01T05:30:00Z"))

            let kathmandu = #"{"report":"active-users","source":"local","from":"2026-10-01","to":"2026-10-02","timezone":"Asia/Kathmandu"}"#
            let plain = try await client.execute(uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: json(kathmandu)).decode(
                JobStatus.self)
            #expect(plain.windowFrom == "2026-09-30T18:15:00Z" && plain.windowFromLocal == "2026-10-01T00:00:00+05:45")
            #expect(plain.windowNotes == nil)
        }
    }
}
