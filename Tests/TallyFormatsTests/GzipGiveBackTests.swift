import Foundation
import Testing

@testable import TallyFormats

/// At a gzip member's end ISA-L gives back the bytes left in its bit buffer, which may belong to
/// an earlier chunk: the reader must feed them again, not miscount them (found by `scripts/fuzz gzip`).
@Suite struct GzipGiveBackTests {
    /// The fuzzer's input (after the gzip magic), once an arithmetic-overflow crash of a worker.
    static let crash: [UInt8] = [
        0x1F, 0x8B, 0x08, 0x00, 0x00, 0xCF, 0xCF, 0xCF, 0xCF, 0x0A, 0x8A, 0x00, 0x99, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0x08, 0x00, 0x0A, 0x8A,
    ]

    @Test func theFuzzersInputIsRefusedOrReadNeverACrash() {
        for split in 0...Self.crash.count {
            let chunks = [Array(Self.crash[..<split]), Array(Self.crash[split...])]
            do {
                _ = try readObject(chunks, format: .twingateCSV)
            } catch is LogReadError {
                // refused: fine
            } catch {
                Issue.record("split \(split): unexpected \(error)")
            }
        }
    }

    @Test func aTwoMemberFileSplitAtEveryByteReadsBothMembers() throws {
        func gzip(_ text: String) throws -> [UInt8] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/gzip")
            process.arguments = ["-c", "-n"]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            input.fileHandleForWriting.write(Data(text.utf8))
            try input.fileHandleForWriting.close()
            let bytes = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Array(bytes)
        }
        let header = "start_time,user,status\n"
        let bytes = try gzip(header + "2024-01-01 00:00:00 UTC,a@b.c,NORMAL\n") + gzip("2024-01-01 00:00:01 UTC,b@b.c,NORMAL\n")
        for split in 0...bytes.count {
            let result = try readObject([Array(bytes[..<split]), Array(bytes[split...])], format: .twingateCSV)
            #expect(result.events.map(\.user) == ["a@b.c", "b@b.c"], "split at \(split)")
        }
    }
}
