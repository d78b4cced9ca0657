import Crypto
import Foundation
import TallyFormats

/// AWS Signature Version 4, sent as an `Authorization` header.
///
/// Paths are encoded once, as S3 wants (other services encode twice; tally only talks to S3).
/// The service and the set of signed headers are parameters so the signer can be checked
/// against AWS's published SigV4 test suite, whose requests sign only `host` and `x-amz-date`
/// for the service `service`.
public struct SigV4Signer: Sendable {
    /// Who signs.
    public var credentials: S3Credentials
    /// The region in the credential scope (`us-east-1`).
    public var region: String
    /// The service in the credential scope (`s3`).
    public var service: String

    /// SHA-256 of an empty payload: what a `GET` without a body declares.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// A signer for `service` in `region`.
    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A signed request: what to put on the wire, and the intermediate strings for tests and
    /// for debugging a `SignatureDoesNotMatch`.
    public struct SignedRequest: Sendable {
        /// The path, encoded as it was signed; send exactly this.
        public var encodedPath: String
        /// The query, encoded and sorted as it was signed (no leading `?`); send exactly this.
        public var encodedQuery: String
        /// Every header to send: the ones given, `x-amz-date`, `x-amz-security-token` with a
        /// session token, and `authorization`.
        public var headers: [(name: String, value: String)]
        /// The canonical request (SigV4 task 1).
        public var canonicalRequest: String
        /// The string to sign (SigV4 task 2).
        public var stringToSign: String
        /// The signature, lowercase hex.
        public var signature: String
        /// The `Authorization` header's value.
        public var authorization: String
    }

    /// Signs a request.
    ///
    /// - Parameters:
    ///   - path: the raw (unencoded) path, starting with `/`; each segment is encoded.
    ///   - query: raw names and values; both are encoded, then sorted.
    ///   - headers: the headers to sign and send, `host` among them; the signer adds
    ///     `x-amz-date` and, with a session token, `x-amz-security-token`.
    ///   - payloadHash: hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    ///   - date: the signing time (requests are rejected when it is 15 minutes off).
    public func sign(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)],
        payloadHash: String,
        date: Date
    ) -> SignedRequest {
        let (amzDate, dateStamp) = Self.timestamps(of: date)
        var sent = headers
        sent.append((name: "x-amz-date", value: amzDate))
        if let token = credentials.sessionToken {
            sent.append((name: "x-amz-security-token", value: token))
        }

        // Repeated headers are signed as one, their values joined by commas in order.
        var byName: [String: [String]] = [:]
        for header in sent {
            byName[header.name.lowercased(), default: []].append(Self.canonicalHeaderValue(header.value))
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let encodedPath = Self.encodePath(path)
        let encodedQuery = Self.canonicalQuery(query)
        let canonicalRequest = [method, encodedPath, encodedQuery, canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        let scope = "\(dateStamp)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = Self.hex(
            HMAC<SHA256>.authenticationCode(
                for: Data(stringToSign.utf8), using: signingKey(dateStamp: dateStamp)))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        sent.append((name: "authorization", value: authorization))
        return SignedRequest(
            encodedPath: encodedPath, encodedQuery: encodedQuery, headers: sent,
            canonicalRequest: canonicalRequest, stringToSign: stringToSign,
            signature: signature, authorization: authorization
        )
    }

    /// The key derived from the secret for one day, region and service.
    func signingKey(dateStamp: String) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ message: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key))
        }
        let secret = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        return hmac(hmac(hmac(hmac(secret, dateStamp), region), service), "aws4_request")
    }

    /// `x-amz-date` (`20150830T123600Z`) and the scope's date (`20150830`), in UTC.
    static func timestamps(of date: Date) -> (amzDate: String, dateStamp: String) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        // `2015-08-30T12:36:00Z` without its separators.
        let amzDate = CivilTime.rfc3339(micros: seconds * CivilTime.microsPerSecond).filter { $0 != "-" && $0 != ":" }
        return (amzDate, String(amzDate.prefix(8)))
    }

    /// A header value as signed: trimmed, inner runs of whitespace collapsed to one space.
    static func canonicalHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// The query as signed and sent: names and values encoded, pairs sorted by name, then value.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(String, String)] = query.map { (uriEncode($0.name), uriEncode($0.value)) }
        let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        return sorted.map { (pair: (String, String)) -> String in pair.0 + "=" + pair.1 }.joined(separator: "&")
    }

    /// A path with every segment encoded and the `/` between segments kept.
    static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { uriEncode(String($0)) }
            .joined(separator: "/")
    }

    /// AWS's `UriEncode`: every UTF-8 byte except `A-Z a-z 0-9 - . _ ~` becomes `%XX` (uppercase).
    static func uriEncode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%"
                out.unicodeScalars.append(hexDigits[Int(byte >> 4)])
                out.unicodeScalars.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    private static let hexDigits: [Unicode.Scalar] = Array("0123456789ABCDEF".unicodeScalars)

    /// Lowercase hex of a digest or MAC.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var out = String.UnicodeScalarView()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(out)
    }
}
