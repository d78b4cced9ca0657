import Foundation

/// One page of a ListObjectsV2 answer (`<ListBucketResult>`).
struct S3ListObjectsResult: Sendable, Equatable {
    /// One listed object.
    struct Entry: Sendable, Equatable {
        /// The full key, prefix included.
        var key: String
        /// Size in bytes.
        var size: Int64
        /// The ETag with the last modification time: what changes when the object is rewritten
        /// (the ETag alone can repeat for equal contents, and some stores leave it out).
        var version: String? = nil
    }

    /// The objects of this page, in S3's order (by key, UTF-8 byte order).
    var entries: [Entry]
    /// Whether more pages follow.
    var isTruncated: Bool
    /// The token that asks for the next page, when truncated.
    var nextContinuationToken: String?

    /// Parses a page; `location` names the listing in errors.
    init(xml data: Data, location: String) throws {
        guard let root = S3XMLElement.parse(data) else {
            throw SourceError(.invalidListing, location: location, detail: "ListObjectsV2 answer is not well-formed XML")
        }
        guard root.name == "ListBucketResult" else {
            throw SourceError(
                .invalidListing, location: location, detail: "ListObjectsV2 answer has root <\(root.name)>, not <ListBucketResult>")
        }
        var entries: [Entry] = []
        for contents in root.children where contents.name == "Contents" {
            guard let key = contents.text(of: "Key") else {
                throw SourceError(.invalidListing, location: location, detail: "ListObjectsV2 entry without <Key>")
            }
            let sizeText = contents.text(of: "Size")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard let size = Int64(sizeText), size >= 0 else {
                throw SourceError(.invalidListing, location: location, detail: "ListObjectsV2 entry \(key) has no valid <Size>")
            }
            let etag = contents.text(of: "ETag")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let modified = contents.text(of: "LastModified")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let version = etag.isEmpty && modified.isEmpty ? nil : etag + "@" + modified
            entries.append(Entry(key: key, size: size, version: version))
        }
        self.entries = entries
        let truncated = root.text(of: "IsTruncated")?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        isTruncated = truncated == "true"
        let token = root.text(of: "NextContinuationToken")?.trimmingCharacters(in: .whitespacesAndNewlines)
        nextContinuationToken = token?.isEmpty == false ? token : nil
        if isTruncated && nextContinuationToken == nil {
            // Following a truncated page without a token would list the first page forever.
            throw SourceError(
                .invalidListing, location: location, detail: "ListObjectsV2 page is truncated but has no <NextContinuationToken>")
        }
    }
}
