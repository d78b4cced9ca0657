import Hummingbird

extension Request {
    /// The value of the header `name` (matched case-insensitively), for headers HTTPTypes has
    /// no name for.
    func headerValue(_ name: String) -> String? {
        let canonical = name.lowercased()
        return headers.first(where: { $0.name.canonicalName == canonical })?.value
    }
}
