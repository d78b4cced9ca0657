import Foundation
import Hummingbird
import TallyProtocol

/// JSON helpers for routes.
enum JSONBody {
    /// A JSON response with tally's key conventions.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try TallyJSON.encoder().encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The most nesting a request body may have.
    static let maximumDepth = 8

    /// Decodes a JSON body, turning every problem into a 400 (or 413, 415) naming the field: a
    /// body that is not an object, or has a key `T` does not know, or a `null`, is refused too.
    static func decode<T: WireBody>(_ type: T.Type, from request: Request, limit: Int = 64 * 1024) async throws -> T {
        try requireContentType("application/json", of: request)
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "request body larger than \(limit) bytes")
        }
        let data = Data(body.readableBytesView)
        // No request body of the API nests deeper than 3; refuse deep ones before parsing them.
        guard JSONText.depth(of: data) <= maximumDepth else {
            throw APIError(.badRequest, "body nests deeper than \(maximumDepth) levels")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any] else {
            throw APIError(.badRequest, "body is not a JSON object")
        }
        for key in object.keys.sorted() {
            guard T.wireKeys.contains(key) else { throw APIError(.badRequest, "unknown field '\(key)'", field: key) }
            if object[key] is NSNull { throw APIError(.badRequest, "field '\(key)' is null; leave it out instead", field: key) }
        }
        do {
            return try TallyJSON.decoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "missing field '\(snake(key.stringValue))'", field: snake(key.stringValue))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map { snake($0.stringValue) }.joined(separator: ".")
            throw APIError(.badRequest, "field '\(field)' has the wrong type", field: field)
        } catch {
            throw APIError(.badRequest, "body is not valid JSON")
        }
    }

    /// Refuses (415) a body declared as another media type, or not declared at all: a web page
    /// can send a cross-site POST without a preflight only as a form or text body, so a JSON or
    /// binary body required as such is one no page can make another site's browser send.
    static func requireContentType(_ expected: String, of request: Request) throws {
        guard let declared = request.headers[.contentType] else {
            throw APIError(.unsupportedMediaType, "the body must be sent with Content-Type: \(expected)")
        }
        let mediaType = declared.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard mediaType == expected else {
            throw APIError(.unsupportedMediaType, "the body must be \(expected), not '\(declared)'")
        }
    }

    private static func snake(_ name: String) -> String {
        var out = ""
        for c in name {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}
