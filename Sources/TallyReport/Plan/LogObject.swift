/// One object (file) of a log source, as listed.
public struct LogObject: Sendable, Hashable {
    /// Path relative to the source's root, `/`-separated, never starting with `/`.
    public var name: String
    /// Size in bytes as listed (compressed size for `.gz` objects); 0 when unknown.
    public var size: Int64
    /// The time range read from the name, when it has one.
    public var nameTime: ObjectTimeRange?

    /// An object; its time range is read from the name.
    public init(name: String, size: Int64) {
        self.name = name
        self.size = size
        self.nameTime = ObjectTimeRange(objectName: name)
    }

    /// An object with the time range its name was read as.
    public init(name: String, size: Int64, nameTime: ObjectTimeRange?) {
        self.name = name
        self.size = size
        self.nameTime = nameTime
    }
}
