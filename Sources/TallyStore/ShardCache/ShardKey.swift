import Crypto
import TallyReport
import TallySources

/// What a cached shard is found by: the digest of what a task reads and makes — the source's
/// address and format, the engine's revision, what the partial's rows are keyed by (so an
/// active-users shard is never taken for another report's) and the objects' names in plan
/// order — and the digest of the
/// objects' sizes and versions, which tells a changed object apart (docs/design.md §3.6).
package struct ShardKey: Sendable, Hashable {
    /// Names the task: equal for the same objects of the same source.
    package let objects: String
    /// Names the objects' contents: differs once any of them changed.
    package let versions: String

    /// The key of `task` over `source`; nil when an object's listing gave no version, since a
    /// change to it could not be seen.
    package init?(task: ReportTask, source: ConfiguredSource, rowKey: RowKey) {
        var names = SHA256()
        var contents = SHA256()
        let address = source.address
        for field in [
            "tally-shard", "\(Partial.engineRevision)", address.kind.rawValue, address.url, address.endpoint ?? "",
            address.region ?? "", source.format.rawValue, "rows \(rowKey.rawValue)",
        ] {
            Self.add(field, to: &names)
        }
        for object in task.objects {
            guard let version = object.version else { return nil }
            Self.add(object.name, to: &names)
            Self.add("\(object.size)", to: &contents)
            Self.add(version, to: &contents)
        }
        objects = Self.hex(names.finalize())
        versions = Self.hex(contents.finalize())
    }

    /// What names a job's copy of this shard with shared blobs, where a task's partial is named
    /// by where it came from (docs/design.md §3.11): equal only for the same objects and versions.
    package var fileToken: String { "shard" + objects.prefix(16) + versions.prefix(16) }

    /// A key as stored.
    package init(objects: String, versions: String) {
        self.objects = objects
        self.versions = versions
    }

    /// Length-prefixed, so that no two lists of fields hash the same bytes.
    private static func add(_ field: String, to hash: inout SHA256) {
        let bytes = Array(field.utf8)
        hash.update(data: Array("\(bytes.count):".utf8))
        hash.update(data: bytes)
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
