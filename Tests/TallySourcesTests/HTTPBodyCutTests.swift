import Foundation
import TallyFormats
import TallyReport
import Testing

@testable import TallySources

/// A body that ends early is a transient failure of that object, however the connection ends:
/// the worker must retry it, never count half an object or give up on the task.
@Suite struct HTTPBodyCutTests {
    /// A one-shot HTTP server on a loopback port: answers the first request with `head` and
    /// `body`, then closes (RST when `reset`).
    final class CuttingServer: @unchecked Sendable {
        let port: Int
        private let listener: Int32

        init(head: String, body: [UInt8], reset: Bool) throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.listener = listener
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(listener, 4) == 0 else { throw CocoaError(.fileWriteUnknown) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
            }
            port = Int(UInt16(bigEndian: address.sin_port))
            Thread.detachNewThread {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                var request = [UInt8](repeating: 0, count: 4096)
                _ = read(connection, &request, request.count)
                let bytes = Array(head.utf8) + body
                _ = bytes.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                if reset {
                    var linger = Foundation.linger(l_onoff: 1, l_linger: 0)
                    setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Foundation.linger>.size))
                }
                close(connection)
            }
        }

        deinit { close(listener) }
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", true),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n", false),
    ])
    func aBodyEndingEarlyIsATransientFailureOfTheObject(head: String, reset: Bool) async throws {
        let server = try CuttingServer(head: head, body: Array(repeating: UInt8(ascii: "x"), count: 300), reset: reset)
        let client = SourceHTTPClient()
        let source = try HTTPDirectorySource(url: "http://127.0.0.1:\(server.port)/logs/", client: client)
        var received = 0
        let error = await #expect(throws: SourceError.self) {
            try await source.read(LogObject(name: "2026-10-01T10.csv", size: 100_000)) { received += $0.count }
        }
        #expect(error?.isTransient == true, "\(String(describing: error))")
        #expect(error?.location.hasSuffix("2026-10-01T10.csv") == true)
        #expect(received <= 300)
        try await client.shutdown()
    }
}
