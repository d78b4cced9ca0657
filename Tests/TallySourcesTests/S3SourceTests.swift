import Foundation
import Testing

@testable import TallySources

@Suite struct S3SourceTests {
    /// Never used for a request here, so it never starts a connection pool.
    static let client = SourceHTTPClient()

    static let credentials = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"]

    @Test func parsesBucketPrefixAndDefaults() throws {
        let source = try S3Source(url: "s3://logs/twingate/sync", environment: Self.credentials, client: Self.client)
        #expect(source.bucket == "logs" && source.prefix == "twingate/sync/")
        #expect(source.region == "us-east-1" && source.endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(source.hostHeader == "s3.us-east-1.amazonaws.com")
        #expect(source.location == "s3://logs/twingate/sync/")
        #expect(source.signer.credentials.sessionToken == nil)
        let root = try S3Source(url: "s3://logs", environment: Self.credentials, client: Self.client)
        #expect(root.prefix == "" && root.location == "s3://logs/")
        #expect(try S3Source(url: "s3://logs/", environment: Self.credentials, client: Self.client).prefix == "")
    }

    @Test func endpointAndRegionComeFromTheEnvironment() throws {
        var environment = Self.credentials
        environment["AWS_DEFAULT_REGION"] = "eu-west-3"
        #expect(
            try S3Source(url: "s3://b/p", environment: environment, client: Self.client).endpoint == "https://s3.eu-west-3.amazonaws.com")
        environment["AWS_REGION"] = "eu-central-1"
        environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9000/"
        environment["AWS_SESSION_TOKEN"] = "tok"
        var source = try S3Source(url: "s3://b/p", environment: environment, client: Self.client)
        #expect(source.region == "eu-central-1" && source.endpoint == "http://127.0.0.1:9000")
        #expect(source.hostHeader == "127.0.0.1:9000" && source.signer.credentials.sessionToken == "tok")
        environment["AWS_ENDPOINT_URL_S3"] = "https://minio.example.com:443"
        source = try S3Source(url: "s3://b/p", environment: environment, client: Self.client)
        #expect(source.endpoint == "https://minio.example.com:443" && source.hostHeader == "minio.example.com")
        #expect(source.origin == "https://minio.example.com" && source.basePath == "")
        // A proxy mounting S3 under a path: the path is part of what is signed.
        environment["AWS_ENDPOINT_URL_S3"] = "http://[::1]:8080/storage/"
        source = try S3Source(url: "s3://b/p", environment: environment, client: Self.client)
        #expect(source.origin == "http://[::1]:8080" && source.basePath == "/storage" && source.hostHeader == "[::1]:8080")
    }

    @Test func missingCredentialsNameTheVariable() {
        for (environment, missing) in [
            ([String: String](), "AWS_ACCESS_KEY_ID"),
            (["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": ""], "AWS_SECRET_ACCESS_KEY"),
        ] {
            do {
                _ = try S3Source(url: "s3://b/p", environment: environment, client: Self.client)
                Issue.record("no error without \(missing)")
            } catch let error as SourceError {
                #expect(error.kind == .invalidLocation && error.location == "s3://b/p")
                #expect(error.detail.hasPrefix("\(missing) is not set"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func rejectsBadLocations() {
        #expect(throws: SourceError.self) { try S3Source(url: "s3:///prefix", environment: Self.credentials, client: Self.client) }
        var environment = Self.credentials
        environment["AWS_ENDPOINT_URL"] = "ftp://example.com"
        #expect(throws: SourceError.self) { try S3Source(url: "s3://b/p", environment: environment, client: Self.client) }
    }

    @Test func logSourcesOpensS3URLs() throws {
        let source = try LogSources.open("s3://logs/sync", client: Self.client, environment: Self.credentials)
        #expect(source is S3Source && source.location == "s3://logs/sync/")
    }

    @Test func credentialsNeverPrintTheSecret() {
        let credentials = S3Credentials(accessKeyID: "AKID", secretAccessKey: "very-secret", sessionToken: "session-xyz")
        #expect(!"\(credentials)".contains("very-secret") && !"\(credentials)".contains("session-xyz"))
        #expect("\(credentials)".contains("AKID"))
    }
}
