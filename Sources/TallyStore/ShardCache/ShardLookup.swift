/// What the cache holds for a plan: every cacheable task's key, and the tasks whose partials it
/// gave (their files already linked into the job's folder).
package struct ShardLookup: Sendable {
    /// Keys by task index; a task without one (an object with no version) is never cached.
    package var keys: [Int: ShardKey] = [:]
    /// Cached partials by task index: those tasks start done.
    package var reused: [Int: CachedShard] = [:]

    /// Nothing cached, nothing to cache.
    package init() {}
}
