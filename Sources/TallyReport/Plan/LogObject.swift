/// One object (file) of a log source, as listed.
public struct LogObject: Sendable, Hashable {
    /// Path relative to the source's root, `/`-separated, never starting with `/`.
    public var name: String
    /// Size in bytes as listed (compressed size for `.gz` objects); 0 when unknown.
    public var size: Int64
    /// The time range read from the name, when it has one.
    public var nameTime: ObjectTimeRange?
    /// What changes when the object's contents change, as the listing tells it (an S3 ETag, a
    /// modification time); nil when the listing tells none. Only objects with a version have
    /// their partials cached (docs/design.md §3.6).
    public var version: String?

    /// An object; its time range is read from the name.
    public init(name: String, size: Int64, version: String? = nil) {
        self.name = name
        self.size = size
        self.nameTime = ObjectTimeRange(objectName: name)
        self.version = version
    }

    /// An object with the time range its name was read as.
    public init(name: String, size: Int64, nameTime: ObjectTimeRange?, version: String? = nil) {
        self.name = name
        self.size = size
        self.nameTime = nameTime
        self.version = version
    }
}
