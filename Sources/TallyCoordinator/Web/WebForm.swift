import Foundation
import Hummingbird
import TallyAccess

/// A posted HTML form (`application/x-www-form-urlencoded`), every value of every name kept in
/// order (checkboxes repeat their name).
struct WebForm: Sendable {
    /// Values by name.
    let values: [String: [String]]

    /// Reads and parses the body (at most the context's 64 KiB, like JSON bodies).
    init(_ request: Request) async throws {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 64 * 1024)
        } catch {
            throw APIError(.contentTooLarge, "form larger than 64 KiB")
        }
        self.init(text: String(buffer: buffer))
    }

    init(text: String) {
        var values: [String: [String]] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            values[decoded(parts[0]), default: []].append(parts.count > 1 ? decoded(parts[1]) : "")
        }
        self.values = values
    }

    /// Reads a posted form and checks it with `FormGuard` (its token, its origin): what every
    /// page that changes something does first.
    static func checked(_ request: Request, identity: Identity) async throws -> WebForm {
        let form = try await WebForm(request)
        try FormGuard.check(request, submitted: form.value("form_token"), identity: identity)
        return form
    }

    /// The first value of a name.
    func value(_ name: String) -> String? { values[name]?.first }
}
