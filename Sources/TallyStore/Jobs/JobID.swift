/// Identifiers of jobs and leases: 16 random characters from `[a-z0-9]`, URL-safe and hard to
/// guess (a lease id is what entitles a worker to upload).
package enum JobID {
    /// A new random identifier.
    package static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<16).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
