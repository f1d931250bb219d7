import TandemCore
import Vapor

/// The API's writes take JSON: a body of another type answers 415 naming the type expected, before
/// Vapor would decode a form or multipart body into the same input. A route that takes other types on
/// purpose (the profile import's CSV or XLSX) says so with `accepting(_:)`. Pages are not under it.
struct JSONBodyMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if [.POST, .PUT, .PATCH].contains(request.method), request.route?.userInfo["tandem.bodyTypes"] == nil,
            let contentType = request.headers.contentType, !Self.isJSON(contentType), request.headers.first(name: .contentLength) != "0"
        {
            throw TandemError.unsupportedMediaType("send the body as application/json, not \(contentType.type)/\(contentType.subType)")
        }
        return try await next.respond(to: request)
    }

    static func isJSON(_ type: HTTPMediaType) -> Bool {
        type.type.lowercased() == "application" && type.subType.lowercased() == "json"
    }
}

extension Route {
    /// Marks a route whose body is not JSON (an upload): `JSONBodyMiddleware` lets it through.
    @discardableResult
    func acceptingUploads() -> Route {
        userInfo["tandem.bodyTypes"] = "upload"
        return self
    }
}
