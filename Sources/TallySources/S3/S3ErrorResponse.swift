import Foundation

/// An S3 error answer (`<Error><Code>…</Code><Message>…</Message></Error>`) and the
/// `SourceError` it becomes.
struct S3ErrorResponse: Sendable, Equatable {
    /// The error code (`NoSuchBucket`, `SignatureDoesNotMatch`, …).
    var code: String
    /// The human-readable message.
    var message: String

    /// Parses an error body; `nil` when it is not an S3 `<Error>` document.
    init?(xml data: Data) {
        guard let root = S3XMLElement.parse(data), root.name == "Error",
            let code = root.text(of: "Code")?.trimmingCharacters(in: .whitespacesAndNewlines), !code.isEmpty
        else { return nil }
        self.code = code
        self.message = (root.text(of: "Message") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The failure an answer with `status` and `body` (possibly empty, as for `HEAD`) means;
    /// `bucketRegion` is AWS's `x-amz-bucket-region` header, sent when the region is wrong.
    static func sourceError(
        status: UInt, reason: String, body: Data, bucketRegion: String? = nil, retryAfter: String? = nil,
        location: String
    ) -> SourceError {
        let parsed = S3ErrorResponse(xml: body)
        // One line, whatever the server put in its message: the CLI prints it as is.
        let message = (parsed?.message ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
        var detail = "HTTP \(status) \(reason)"
        if let parsed {
            detail = "S3 \(parsed.code)" + (message.isEmpty ? "" : ": \(message)") + " (HTTP \(status))"
        }
        if let bucketRegion, !bucketRegion.isEmpty, status == 301 || status == 400 || status == 403 {
            detail += "; the bucket is in region \(bucketRegion) (set AWS_REGION=\(bucketRegion))"
        }
        switch (parsed?.code, status) {
        case ("NoSuchBucket", _), ("NoSuchKey", _), (_, 404):
            return SourceError(.notFound, location: location, detail: detail)
        case ("InvalidAccessKeyId", _), ("SignatureDoesNotMatch", _):
            // A wrong key or signature does not heal by trying again.
            return SourceError(
                .httpStatus, location: location, detail: detail + "; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
                status: 403)
        case ("SlowDown", _):
            return SourceError(
                .httpStatus, location: location, detail: detail, status: 503, retryAfterSeconds: SourceError.retryAfter(retryAfter))
        default:
            return SourceError(
                .httpStatus, location: location, detail: detail, status: Int(status),
                retryAfterSeconds: SourceError.retryAfter(retryAfter))
        }
    }
}
