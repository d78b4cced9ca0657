import Crypto
import Foundation

/// Standard Webhooks signing: `v1,` and the base64 HMAC-SHA256, keyed with the target's secret,
/// of `id.timestamp.body` — what a receiver recomputes to know the message is the coordinator's
/// and was not replayed (the timestamp is signed too).
package enum WebhookSignature {
    package static func sign(id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
