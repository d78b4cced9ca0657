import Foundation
import TallyReport
import Testing

@testable import TallySources

/// Object names come from leases: a worker opens nothing outside its source.
@Suite struct ObjectNameTests {
    @Test(arguments: ["../x", "a/../../etc/passwd", "/etc/passwd", "..", "a/..", "a\\..\\b", "a\u{0}b"])
    func namesThatCouldLeaveTheSourceAreRefused(_ name: String) {
        #expect(throws: SourceError.self) { try ObjectName.check(name, in: "/logs") }
    }

    @Test(arguments: ["", "2026/10/01/10.csv", "a..b.csv", "..hidden/x.csv", "x/.../y"])
    func ordinaryNamesPass(_ name: String) throws {
        try ObjectName.check(name, in: "/logs")
    }

    @Test func aLocalSourceRefusesToReadOutsideItsFolder() async throws {
        let root = NSTemporaryDirectory() + "tally-object-name-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "secret".write(toFile: root + "/outside.csv", atomically: true, encoding: .utf8)
        let source = LocalDirectorySource(path: root + "/logs")
        do {
            try await source.read(LogObject(name: "../outside.csv", size: 6)) { _ in Issue.record("read a file outside the source") }
            Issue.record("no error")
        } catch let error as SourceError {
            #expect(error.kind == .invalidLocation && !error.isTransient)
            #expect(error.detail.contains("'../outside.csv'"))
        }
    }
}
