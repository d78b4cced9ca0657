import Foundation
import Hummingbird
import TallyProtocol

/// A failed request: an HTTP status and a JSON body `{"error": "…", "field": "…"}` that names
/// what is wrong (docs/design.md §5.2: bad requests get 4xx with a JSON reason).
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let body: APIErrorBody
    /// Extra headers (`Allow` on a 405).
    var headers = HTTPFields()

    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.body = APIErrorBody(error: message, field: field)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = (try? TallyJSON.encoder().encode(body)) ?? Data(#"{"error":"internal error"}"#.utf8)
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
