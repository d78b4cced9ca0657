import Foundation
import Hummingbird
import TallyProtocol

/// A failed request: an HTTP status and a JSON body `{"error": "…", "field": "…"}` that names
/// what is wrong (DESIGN §4: bad requests get 4xx with a JSON reason).
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let body: APIErrorBody

    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.body = APIErrorBody(error: message, field: field)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = (try? TallyJSON.encoder().encode(body)) ?? Data(#"{"error":"internal error"}"#.utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The request context of the coordinator's router.
struct CoordinatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// JSON bodies are small; partial uploads are read separately with their own limit.
    var maxUploadSize: Int { 64 * 1024 }
}

/// JSON helpers for routes.
enum JSONResponse {
    /// A JSON response with tally's key conventions.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try TallyJSON.encoder().encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Decodes a JSON body, turning every problem into a 400 (or 413) naming the field.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int = 64 * 1024) async throws -> T {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "request body larger than \(limit) bytes")
        }
        do {
            return try TallyJSON.decoder().decode(T.self, from: Data(body.readableBytesView))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "missing field '\(snake(key.stringValue))'", field: snake(key.stringValue))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map { snake($0.stringValue) }.joined(separator: ".")
            throw APIError(.badRequest, "field '\(field)' has the wrong type", field: field)
        } catch {
            throw APIError(.badRequest, "body is not valid JSON")
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
