import TandemCore
import Vapor

/// The API's writes take JSON: a body of another type answers 415 naming the type expected, before
/// Vapor would decode a form or multipart body into the same input. A route that takes other types on
/// purpose (the profile import's CSV or XLSX) says so with `accepting(_:)`. Pages are not under it.
/// Future-based: an async middleware costs a task per request, on every API call.
struct JSONBodyMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        if [.POST, .PUT, .PATCH].contains(request.method), request.route?.userInfo["tandem.bodyTypes"] == nil,
            let contentType = request.headers.contentType, !Self.isJSON(contentType), request.headers.first(name: .contentLength) != "0"
        {
            return request.eventLoop.makeFailedFuture(
                TandemError.unsupportedMediaType("send the body as application/json, not \(contentType.type)/\(contentType.subType)"))
        }
        return next.respond(to: request)
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
