import TandemCore
import Vapor

/// An RFC 9457 problem document.
struct Problem: Content {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var errors: [FieldError]?
    var enrolmentToken: String?
    var blockingUsers: [BlockingUserDTO]?
    var licenseCount: Int?

    static let typeBase = "https://tandem.dev/problems/"
}

/// Query parameters that cannot be read (an export's `format` or period): 400, the request itself being
/// malformed, with `errors` naming each parameter.
struct QueryProblem: Error, Sendable {
    var errors: [FieldError]

    /// Throws the validator's failures as a `QueryProblem`, if it has any.
    static func check(_ validator: FieldValidator) throws {
        guard validator.errors.isEmpty else { throw QueryProblem(errors: validator.errors) }
    }
}

/// Maps every error, domain or framework, to problem+json once (SPEC §12).
struct ProblemMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            return Self.response(for: error, request: request)
        }
    }

    static func problem(for error: any Error) -> (Problem, HTTPHeaders) {
        var headers = HTTPHeaders()
        func make(_ slug: String, _ title: String, _ status: HTTPStatus, _ detail: String, _ errors: [FieldError]? = nil) -> Problem {
            Problem(type: Problem.typeBase + slug, title: title, status: Int(status.code), detail: detail, errors: errors)
        }
        switch error {
        case let error as TandemError:
            switch error {
            case .notFound(let what):
                return (make("not-found", "Not found", .notFound, "No \(what) with this id exists or you cannot see it."), headers)
            case .validation(let errors):
                let detail = errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
                return (make("validation", "Invalid input", .unprocessableEntity, detail, errors), headers)
            case .badRequest(let detail):
                return (make("bad-request", "Bad request", .badRequest, detail), headers)
            case .forbidden(let detail):
                return (make("forbidden", "Forbidden", .forbidden, detail), headers)
            case .conflict(let detail):
                return (make("conflict", "Conflict", .conflict, detail), headers)
            case .preconditionFailed(let detail):
                return (make("precondition-failed", "Precondition failed", .preconditionFailed, detail), headers)
            case .preconditionRequired(let detail):
                return (make("precondition-required", "Precondition required", .preconditionRequired, detail), headers)
            case .unauthorized(let detail):
                headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer")
                return (make("unauthorized", "Unauthorized", .unauthorized, detail), headers)
            case .totpRequired(let detail):
                headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer")
                return (make("totp-required", "Two-factor code required", .unauthorized, detail), headers)
            case .totpEnrolmentRequired(let token):
                var problem = make(
                    "totp-enrolment-required", "Two-factor enrolment required", .unauthorized,
                    "Set up two-factor authentication: POST /api/v1/me/totp with the enrolmentToken as bearer token, then confirm a code at /api/v1/me/totp/confirm."
                )
                problem.enrolmentToken = token
                return (problem, headers)
            case .rateLimited(let seconds):
                headers.replaceOrAdd(name: .retryAfter, value: String(seconds))
                return (
                    make(
                        "rate-limited", "Too many attempts", .tooManyRequests,
                        "Too many attempts (failed logins, or secrets revealed); try again in \(seconds) seconds."), headers
                )
            case .payloadTooLarge(let detail):
                return (make("payload-too-large", "Payload too large", .payloadTooLarge, detail), headers)
            case .unsupportedMediaType(let detail):
                return (make("unsupported-media-type", "Unsupported media type", .unsupportedMediaType, detail), headers)
            }
        case let error as CoManagementError:
            switch error {
            case .activeUsers(let users):
                var problem = make(
                    "co-managing-users-active", "Co-managing users are active", .conflict,
                    "Co-management cannot be switched off while co-managing users are active: deactivate \(users.map(\.username).joined(separator: ", ")) first."
                )
                problem.blockingUsers = users
                return (problem, headers)
            case .licenseConfirmationRequired(let current):
                var problem = make(
                    "license-confirmation-required", "License confirmation required", .conflict,
                    "Each active co-managing user is a billable license. This makes \(current + 1) licenses (now \(current)); send confirmLicense: true to confirm."
                )
                problem.licenseCount = current
                return (problem, headers)
            }
        case let error as QueryProblem:
            let detail = error.errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            return (make("bad-query", "Bad request", .badRequest, detail, error.errors), headers)
        case let error as DecodingError:
            let (field, message) = describe(error)
            // A body that is not JSON at all could not be read (400); JSON that does not fit the input is invalid (422).
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                return (
                    make("malformed-json", "Malformed JSON", .badRequest, "The body is not valid JSON; send one JSON object.", [FieldError(field, message)]),
                    headers
                )
            }
            return (make("validation", "Invalid input", .unprocessableEntity, "\(field): \(message)", [FieldError(field, message)]), headers)
        case let abort as any AbortError:
            let status = abort.status
            let slug: String
            let detail: String
            switch status {
            case .payloadTooLarge: (slug, detail) = ("payload-too-large", "The request body is larger than this endpoint accepts.")
            case .unsupportedMediaType: (slug, detail) = ("unsupported-media-type", "Send the body as application/json.")
            case .notFound: (slug, detail) = ("not-found", "No such path.")
            case .methodNotAllowed: (slug, detail) = ("method-not-allowed", "This path does not accept that method.")
            case .badRequest:
                (slug, detail) = (
                    "bad-request", abort.reason.contains("JSON") || abort.reason.contains("ecod") ? "The body is not valid JSON: \(abort.reason)" : abort.reason
                )
            // Vapor's content decoding answers a bare 422 when there is no body at all.
            case .unprocessableEntity where abort.reason == status.reasonPhrase:
                return (
                    make(
                        "validation", "Invalid input", status, "body: is required; send a JSON object", [FieldError("body", "is required; send a JSON object")]),
                    abort.headers
                )
            default: (slug, detail) = (status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "-"), abort.reason)
            }
            headers = abort.headers
            return (make(slug, status.reasonPhrase, status, detail), headers)
        // The vault fails closed: a wrong key or a changed ciphertext is said plainly (never with the secret).
        case let error as VaultError:
            return (make("vault", "Credential vault error", .internalServerError, error.publicDescription), headers)
        default:
            return (make("internal", "Internal error", .internalServerError, "Something went wrong; the change was not saved."), headers)
        }
    }

    static func response(for error: any Error, request: Request) -> Response {
        if let vault = error as? VaultError { request.logger.error("credential vault: \(vault.description)") }
        var (problem, extraHeaders) = problem(for: error)
        // Foundation reports a number that does not fit its field (5.5 or 1e30 for an integer) as invalid JSON
        // without a path; when the body does parse, say what is wrong instead.
        if case DecodingError.dataCorrupted(let context)? = error as? DecodingError, context.codingPath.isEmpty,
            let body = request.body.data, (try? JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed])) != nil
        {
            let message = "holds a number that does not fit its field (a fraction or an out-of-range number where a whole number is expected)"
            problem = Problem(
                type: Problem.typeBase + "validation", title: "Invalid input", status: Int(HTTPStatus.unprocessableEntity.code), detail: "body: \(message)")
            problem.errors = [FieldError("body", message)]
        }
        if problem.status >= 500 {
            request.logger.report(error: error)
        }
        var headers = extraHeaders
        headers.replaceOrAdd(name: .contentType, value: "application/problem+json")
        let body = (try? JSONEncoder().encode(problem)) ?? Data()
        return Response(status: HTTPStatus(statusCode: problem.status), headers: headers, body: .init(data: body))
    }

    /// A decoding failure in words a client can act on.
    static func describe(_ error: DecodingError) -> (String, String) {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "body" : text)
        }
        func typeName(_ type: Any.Type) -> String {
            let name = String(describing: type)
            switch name {
            case "String", "Optional<String>": return "a string"
            case "Int", "Int64", "Int32", "Optional<Int>": return "an integer"
            case "Double", "Decimal", "Optional<Double>": return "a number"
            case "Bool", "Optional<Bool>": return "true or false"
            default:
                if name.hasPrefix("Array") { return "an array" }
                if name.hasPrefix("Dictionary") { return "an object" }
                return "a value of the right type"
            }
        }
        switch error {
        case .typeMismatch(let type, let context):
            return (path(context.codingPath), "must be \(typeName(type))")
        case .valueNotFound(let type, let context):
            return (path(context.codingPath), "must be \(typeName(type)), not null")
        case .keyNotFound(let key, let context):
            return (path(context.codingPath + [key]), "is required")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return ("body", "is not valid JSON") }
            return (path(context.codingPath), context.debugDescription)
        @unknown default:
            return ("body", "could not be read")
        }
    }
}
