/// One field's problem in a rejected input.
public struct FieldError: Codable, Sendable, Equatable {
    public var field: String
    public var message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}

/// The domain's errors. The server maps each case once to an RFC 9457 problem.
public enum TandemError: Error, Sendable, Equatable {
    /// The object does not exist or the principal may not see it; the two are never told apart.
    case notFound(String)
    case validation([FieldError])
    case badRequest(String)
    /// Visible, but the principal's security level does not allow this action.
    case forbidden(String)
    case conflict(String)
    case preconditionFailed(String)
    case preconditionRequired(String)
    case unauthorized(String)
    /// The password was right; a current TOTP code is needed too.
    case totpRequired(String)
    /// The password was right, but the user must enrol in TOTP first; the token allows only that.
    case totpEnrolmentRequired(enrolmentToken: String)
    case rateLimited(retryAfterSeconds: Int)
    case payloadTooLarge(String)
    case unsupportedMediaType(String)

    public static func invalid(_ field: String, _ message: String) -> TandemError {
        .validation([FieldError(field, message)])
    }
}
