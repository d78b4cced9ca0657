import Foundation
import Testing

@testable import TallySources

/// AWS's published SigV4 test suite (aws-sig-v4-test-suite), plus an S3-style request whose
/// expected signature was computed independently with botocore's `S3SigV4Auth`.
@Suite struct SigV4SignerTests {
    static let suiteCredentials = S3Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2015-08-30T12:36:00Z, the suite's signing time.
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)

    static func suiteSigner(sessionToken: String? = nil) -> SigV4Signer {
        var credentials = suiteCredentials
        credentials.sessionToken = sessionToken
        return SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
    }

    @Test func getVanilla() {
        let signed = Self.suiteSigner().sign(
            method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.suiteDate)
        #expect(
            signed.canonicalRequest == """
                GET
                /

                host:example.amazonaws.com
                x-amz-date:20150830T123600Z

                host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(
            signed.stringToSign == """
                AWS4-HMAC-SHA256
                20150830T123600Z
                20150830/us-east-1/service/aws4_request
                bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
                """)
        #expect(signed.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
        let sent = Dictionary(signed.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(sent["x-amz-date"] == "20150830T123600Z")
        #expect(sent["authorization"] == signed.authorization)
        #expect(sent["x-amz-security-token"] == nil)
    }

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var sessionToken: String?
        var signedHeaders = "host;x-amz-date"
        var signature: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "get-vanilla-query-order-key-case", query: [("Param2", "value2"), ("Param1", "value1")],
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            name: "get-vanilla-utf8-query", query: [("ሴ", "bar")],
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(
            name: "get-vanilla-query-unreserved",
            query: [
                (
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                )
            ],
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        Vector(
            name: "get-header-value-trim", headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            signedHeaders: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(
            name: "get-vanilla-with-session-token",
            sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
            signedHeaders: "host;x-amz-date;x-amz-security-token",
            signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"),
    ]

    @Test(arguments: vectors) func suiteVector(_ vector: Vector) {
        let signed = Self.suiteSigner(sessionToken: vector.sessionToken).sign(
            method: "GET", path: "/", query: vector.query,
            headers: [("Host", "example.amazonaws.com")] + vector.headers,
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.suiteDate)
        #expect(signed.signature == vector.signature)
        #expect(signed.authorization.contains("SignedHeaders=\(vector.signedHeaders), "))
        if let token = vector.sessionToken {
            #expect(signed.headers.contains { $0.name == "x-amz-security-token" && $0.value == token })
        }
    }

    /// Spaces, `+`, `=`, `/` and UTF-8 in a key and in query values, as S3 wants them: encoded
    /// once, `/` kept between path segments but encoded inside query values.
    @Test func s3RequestWithAwkwardCharacters() {
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1")
        let signed = signer.sign(
            method: "GET", path: "/my-bucket/sync/a b+c=d/é ü~.json",
            query: [("prefix", "sync/a b+c=d/é"), ("list-type", "2"), ("continuation-token", "1/2+3=4 ")],
            headers: [("host", "example.amazonaws.com"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash)],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.suiteDate)
        #expect(signed.encodedPath == "/my-bucket/sync/a%20b%2Bc%3Dd/%C3%A9%20%C3%BC~.json")
        #expect(signed.encodedQuery == "continuation-token=1%2F2%2B3%3D4%20&list-type=2&prefix=sync%2Fa%20b%2Bc%3Dd%2F%C3%A9")
        #expect(
            signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[7] == "host;x-amz-content-sha256;x-amz-date")
        #expect(signed.signature == "f8a988cc0720c184b6080ba0a11e375c05a1711feddd76cf97c040494e8eb094")
    }

    @Test func uriEncodingKeepsOnlyUnreservedCharacters() {
        #expect(SigV4Signer.uriEncode("aZ09-._~") == "aZ09-._~")
        #expect(SigV4Signer.uriEncode("a b+c=d/é&%:") == "a%20b%2Bc%3Dd%2F%C3%A9%26%25%3A")
        #expect(SigV4Signer.encodePath("/b/2026-10-01T00:05:00+00:00.json.gz") == "/b/2026-10-01T00%3A05%3A00%2B00%3A00.json.gz")
        #expect(SigV4Signer.encodePath("/b/a//c/") == "/b/a//c/")
    }

    @Test func timestampsAreUTC() {
        let vanilla = SigV4Signer.timestamps(of: Self.suiteDate)
        #expect(vanilla.amzDate == "20150830T123600Z" && vanilla.dateStamp == "20150830")
        let leap = SigV4Signer.timestamps(of: Date(timeIntervalSince1970: 1_709_251_199.9))
        #expect(leap.amzDate == "20240229T235959Z" && leap.dateStamp == "20240229")
    }
}
