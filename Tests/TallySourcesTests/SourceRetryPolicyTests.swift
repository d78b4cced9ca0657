import Testing

@testable import TallySources

/// Transient failures are retried with bounded, jittered backoff; permanent ones never.
@Suite struct SourceRetryPolicyTests {
    @Test func backoffDoublesUpToTheMaximumAndHonoursRetryAfter() {
        let policy = SourceRetryPolicy(attempts: 10, initialBackoffSeconds: 0.5, maximumBackoffSeconds: 4, budgetSeconds: 60)
        var generator = SystemRandomNumberGenerator()
        // Full jitter: every pause lies in [0, ceiling], the ceiling doubling from 0.5 s up to 4 s.
        for (retry, ceiling) in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (30, 4.0)] {
            let pauses = (0..<500).map { _ in policy.backoff(beforeRetry: retry, retryAfter: nil, using: &generator) }
            #expect(pauses.allSatisfy { $0 >= 0 && $0 <= ceiling }, "retry \(retry)")
            #expect(pauses.max()! > ceiling * 0.8, "retry \(retry): the jitter spans the range")
        }
        // A server's Retry-After is a floor, capped by the maximum.
        #expect((0..<100).allSatisfy { _ in policy.backoff(beforeRetry: 1, retryAfter: 3, using: &generator) >= 3 })
        #expect((0..<100).allSatisfy { _ in policy.backoff(beforeRetry: 1, retryAfter: 600, using: &generator) == 4 })
    }

    @Test func transientErrorsAreRetriedAndPermanentOnesAreNot() async throws {
        let policy = SourceRetryPolicy(attempts: 4, initialBackoffSeconds: 0, maximumBackoffSeconds: 0, budgetSeconds: 60)
        var calls = 0
        var heard: [Int] = []
        let value = try await policy.run(
            { () async throws -> Int in
                calls += 1
                if calls < 3 { throw SourceError(.httpStatus, location: "x", detail: "HTTP 503", status: 503) }
                return 42
            }, onRetry: { retry, _, _ in heard.append(retry) })
        #expect(value == 42 && calls == 3 && heard == [1, 2])

        calls = 0
        await #expect(throws: SourceError.self) {
            try await policy.run { () async throws -> Int in
                calls += 1
                throw SourceError(.httpStatus, location: "x", detail: "HTTP 403", status: 403)
            }
        }
        #expect(calls == 1)

        calls = 0
        await #expect(throws: SourceError.self) {
            try await policy.run { () async throws -> Int in
                calls += 1
                throw SourceError(.truncated, location: "x", detail: "short")
            }
        }
        #expect(calls == 4)
    }

    @Test func whatIsTransient() {
        func status(_ code: Int) -> Bool { SourceError(.httpStatus, location: "x", detail: "", status: code).isTransient }
        #expect(status(500) && status(503) && status(429) && status(408))
        #expect(!status(403) && !status(401) && !status(400))
        #expect(SourceError(.truncated, location: "x", detail: "").isTransient)
        #expect(SourceError(.unreachable, location: "x", detail: "").isTransient)
        #expect(!SourceError(.notFound, location: "x", detail: "").isTransient)
        #expect(SourceError.retryAfter("7") == 7 && SourceError.retryAfter("soon") == nil && SourceError.retryAfter(nil) == nil)
    }
}
