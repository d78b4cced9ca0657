import TallyFormats

/// What an object name from a lease may be: a path relative to its source, without `..`
/// segments, without a leading `/`, without NUL or backslashes. Names come from the coordinator
/// (a lease), so a worker checks them before opening anything: a coordinator impersonated or
/// compromised cannot make a worker read `../../etc/shadow` or another prefix of a bucket.
public enum ObjectName {
    /// Throws `SourceError.invalidLocation` (not transient: the task fails at once) naming the
    /// object when its name could leave the source.
    public static func check(_ name: String, in source: String) throws(SourceError) {
        guard !name.hasPrefix("/"), !name.contains("\0"), !name.contains("\\"),
            !name.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." })
        else {
            throw SourceError(
                .invalidLocation, location: source,
                detail:
                    "refusing object name '\(name.escapingControlCharacters)': it could leave the source (absolute, '..' or a backslash)")
        }
    }
}
