import Foundation
import TallyFormats
import Testing

@testable import TallySources

@Suite struct S3ListObjectsResultTests {
    static let truncatedPage = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>logs</Name><Prefix>sync/</Prefix><KeyCount>5</KeyCount><MaxKeys>5</MaxKeys>
          <IsTruncated>true</IsTruncated>
          <Contents><Key>sync/2026-10-01T00:00:00+00:00.json.gz</Key><LastModified>2026-10-01T00:06:00.000Z</LastModified>
            <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>
          <Contents><Key>sync/_manifest.json</Key><Size>10</Size></Contents>
          <Contents><Key>sync/.tmp/2026-10-01T00:05:00+00:00.json</Key><Size>11</Size></Contents>
          <Contents><Key>sync/a &amp; b/é x.ndjson</Key><Size>0</Size></Contents>
          <Contents><Key>sync/folder/</Key><Size>0</Size></Contents>
          <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
        </ListBucketResult>
        """
    static let lastPage = """
        <ListBucketResult><IsTruncated>false</IsTruncated>
        <Contents><Key>sync/2026-10-01T00:10:00+00:00.json</Key><Size>99</Size></Contents>
        </ListBucketResult>
        """

    @Test func readsATruncatedPageWithItsToken() throws {
        let page = try S3ListObjectsResult(xml: Data(Self.truncatedPage.utf8), location: "s3://logs/sync/")
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(
            page.entries.map(\.key) == [
                "sync/2026-10-01T00:00:00+00:00.json.gz", "sync/_manifest.json",
                "sync/.tmp/2026-10-01T00:05:00+00:00.json", "sync/a & b/é x.ndjson", "sync/folder/",
            ])
        #expect(page.entries.map(\.size) == [1234, 10, 11, 0, 0])
    }

    @Test func readsTheLastPage() throws {
        let page = try S3ListObjectsResult(xml: Data(Self.lastPage.utf8), location: "s3://logs/sync/")
        #expect(!page.isTruncated && page.nextContinuationToken == nil)
        #expect(page.entries == [.init(key: "sync/2026-10-01T00:10:00+00:00.json", size: 99)])
    }

    @Test func namesAreRelativeToThePrefixAndHiddenOnesAreSkipped() throws {
        let page = try S3ListObjectsResult(xml: Data(Self.truncatedPage.utf8), location: "s3://logs/sync/")
        let names = page.entries.compactMap { S3Source.objectName(key: $0.key, prefix: "sync/") }
            .filter { LogFormat.twingateS3.reads(objectNamed: $0) }
        #expect(names == ["2026-10-01T00:00:00+00:00.json.gz", "a & b/é x.ndjson"])
        #expect(S3Source.objectName(key: "other/x.json", prefix: "sync/") == nil)
        #expect(S3Source.objectName(key: "sync/", prefix: "sync/") == nil)
        #expect(S3Source.objectName(key: "sync/a/_SUCCESS/x.json", prefix: "sync/") == nil)
        // The prefix itself may be hidden: the user named it.
        #expect(S3Source.objectName(key: "_staging/x.json", prefix: "_staging/") == "x.json")
        #expect(S3Source.objectName(key: "x.json", prefix: "") == "x.json")
    }

    @Test func rejectsWhatIsNotAListing() {
        for body in [
            "not xml <", "<Other/>", "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
            "<ListBucketResult><Contents><Key>k</Key><Size>x</Size></Contents></ListBucketResult>",
        ] {
            #expect(throws: SourceError.self, "\(body)") {
                try S3ListObjectsResult(xml: Data(body.utf8), location: "s3://logs/")
            }
        }
        do {
            _ = try S3ListObjectsResult(xml: Data("<Other/>".utf8), location: "s3://logs/")
        } catch let error as SourceError {
            #expect(error.kind == .invalidListing && error.location == "s3://logs/")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite struct S3ErrorResponseTests {
    static func body(_ code: String, _ message: String) -> Data {
        Data(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>1</RequestId></Error>"
                .utf8)
    }

    @Test func missingBucketOrKeyIsNotFound() {
        let error = S3ErrorResponse.sourceError(
            status: 404, reason: "Not Found", body: Self.body("NoSuchBucket", "The specified bucket does not exist"), location: "s3://nope/"
        )
        #expect(error.kind == .notFound && !error.isTransient)
        #expect(error.detail == "S3 NoSuchBucket: The specified bucket does not exist (HTTP 404)")
        #expect(S3ErrorResponse.sourceError(status: 404, reason: "Not Found", body: Data(), location: "s3://b/k").kind == .notFound)
    }

    @Test func signatureAndAccessProblemsNameTheCode() {
        let signature = S3ErrorResponse.sourceError(
            status: 403, reason: "Forbidden",
            body: Self.body(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.\nCheck your key and signing method."),
            location: "s3://b/")
        #expect(signature.kind == .httpStatus)
        #expect(
            signature.detail.hasPrefix(
                "S3 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method. (HTTP 403)"
            ))
        #expect(!signature.description.contains("\n"))
        let denied = S3ErrorResponse.sourceError(
            status: 403, reason: "Forbidden", body: Self.body("AccessDenied", "Access Denied"), location: "s3://b/")
        #expect(denied.kind == .httpStatus && denied.detail == "S3 AccessDenied: Access Denied (HTTP 403)")
    }

    @Test func aWrongRegionNamesTheRightOne() {
        let error = S3ErrorResponse.sourceError(
            status: 301, reason: "Moved Permanently",
            body: Self.body("PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint."),
            bucketRegion: "eu-west-3", location: "s3://b/")
        #expect(error.detail.hasSuffix("(HTTP 301); the bucket is in region eu-west-3 (set AWS_REGION=eu-west-3)"))
    }

    @Test func serverErrorsAreTransient() {
        let slow = S3ErrorResponse.sourceError(
            status: 503, reason: "Slow Down", body: Self.body("SlowDown", "Please reduce your request rate."), location: "s3://b/")
        #expect(slow.kind == .httpStatus && slow.isTransient)
        let garbage = S3ErrorResponse.sourceError(status: 502, reason: "Bad Gateway", body: Data("<html>".utf8), location: "s3://b/")
        #expect(garbage.isTransient && garbage.detail == "HTTP 502 Bad Gateway")
    }
}
