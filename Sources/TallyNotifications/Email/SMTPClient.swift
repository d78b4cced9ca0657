import Foundation
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import TallyServices

/// A small SMTP submission client (RFC 5321 with STARTTLS, RFC 3207, and AUTH PLAIN, RFC 4616):
/// enough to hand one message to a relay. It always upgrades to TLS before authenticating and
/// verifies the server's certificate (against `caFile` for a private CA).
package struct SMTPClient: Sendable {
    package var host: String
    package var port: Int
    package var username: String?
    package var password: String?
    package var caFile: String?
    /// How long the whole exchange may take.
    package var timeout: Duration = .seconds(30)

    /// A value with every field given.
    package init(
        host: String, port: Int, username: String? = nil, password: String? = nil, caFile: String? = nil, timeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.caFile = caFile
        self.timeout = timeout
    }

    /// Sends `message` (headers and body, `\r\n` line ends) from `sender` to `recipients`.
    package func send(from sender: String, to recipients: [String], message: String) async throws {
        let timeout = self.timeout
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        try await Deadline.run(seconds: seconds, expired: { _ in SMTPError(stage: "timeout", reply: "no answer within \(timeout)") }) {
            try await exchange(sender: sender, recipients: recipients, message: message)
        }
    }

    private func exchange(sender: String, recipients: [String], message: String) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func reply(_ stage: String, expect: Int) async throws -> [String] {
                var text: [String] = []
                while true {
                    guard let line = try await lines.next() else { throw SMTPError(stage: stage, reply: "connection closed") }
                    let string = String(buffer: line).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                    text.append(string)
                    // "250-…" continues a reply, "250 …" ends it.
                    if string.count < 4 || string[string.index(string.startIndex, offsetBy: 3)] != "-" { break }
                }
                guard let code = text.last.flatMap({ Int($0.prefix(3)) }), code == expect else {
                    throw SMTPError(stage: stage, reply: text.joined(separator: " | "))
                }
                return text
            }
            func send(_ line: String) async throws { try await outbound.write(ByteBuffer(string: line + "\r\n")) }

            _ = try await reply("greeting", expect: 220)
            try await send("EHLO tally")
            let features = try await reply("EHLO", expect: 250)
            guard features.contains(where: { $0.uppercased().contains("STARTTLS") }) else {
                throw SMTPError(stage: "EHLO", reply: "the server does not offer STARTTLS; tally does not send mail in clear")
            }
            try await send("STARTTLS")
            _ = try await reply("STARTTLS", expect: 220)
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caFile { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
            let context = try NIOSSLContext(configuration: tls)
            // An IP address is no server name (SNI); NIOSSL then checks the certificate against
            // the address connected to.
            let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
            let serverName = isAddress ? nil : host
            try await channel.channel.eventLoop.submit {
                try channel.channel.pipeline.syncOperations.addHandler(
                    try NIOSSLClientHandler(context: context, serverHostname: serverName),
                    position: .first)
            }.get()
            do {
                try await send("EHLO tally")
            } catch {
                // A failed handshake (an unverified certificate) closes the channel, so this write
                // may fail first with "I/O on closed channel": the handshake's own error waits on
                // the inbound side, and is the one to report.
                _ = try await reply("TLS handshake", expect: 250)
                throw error
            }
            _ = try await reply("EHLO after STARTTLS", expect: 250)
            if let username, let password {
                let credentials = Data(("\u{0}" + username + "\u{0}" + password).utf8).base64EncodedString()
                try await send("AUTH PLAIN " + credentials)
                _ = try await reply("AUTH", expect: 235)
            }
            try await send("MAIL FROM:<\(sender)>")
            _ = try await reply("MAIL FROM", expect: 250)
            for recipient in recipients {
                try await send("RCPT TO:<\(recipient)>")
                _ = try await reply("RCPT TO \(recipient)", expect: 250)
            }
            try await send("DATA")
            _ = try await reply("DATA", expect: 354)
            // Dot-stuffing: a line starting with "." gets another one.
            let body = message.split(separator: "\r\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
            try await outbound.write(ByteBuffer(string: body + "\r\n.\r\n"))
            _ = try await reply("message", expect: 250)
            try await send("QUIT")
            _ = try? await reply("QUIT", expect: 221)
        }
    }
}

/// An SMTP exchange that failed, and the server's words.
package struct SMTPError: Error, CustomStringConvertible {
    package var stage: String
    package var reply: String

    /// A value with every field given.
    package init(stage: String, reply: String) {
        self.stage = stage
        self.reply = reply
    }
    package var description: String { "SMTP \(stage): \(reply)" }
}
