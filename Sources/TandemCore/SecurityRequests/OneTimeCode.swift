import Crypto
import Foundation

/// One-time codes for caller and approver authentication: at least six digits, valid ten minutes,
/// five tries, used once, stored only as a salted hash bound to what they authenticate (a code of
/// one request never opens another), compared in constant time.
public struct OneTimeCode: Codable, Sendable, Equatable {
    public static let digits = 6
    public static let lifetime: TimeInterval = 600
    public static let maxAttempts = 5

    /// Hex SHA-256 of salt, binding and code.
    public let hash: String
    public let salt: String
    public let expiresAt: Date
    public private(set) var attemptsLeft: Int
    public private(set) var usedAt: Date?

    /// A new code for `binding` (for example "approval:<request id>:<approver id>"): the code to send, and what to store.
    public static func issue(binding: String, now: Date) -> (code: String, stored: OneTimeCode) {
        var generator = SystemRandomNumberGenerator()
        let code = (0..<digits).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
        let salt = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        return (
            code,
            OneTimeCode(hash: digest(code, salt: salt, binding: binding), salt: salt, expiresAt: now.addingTimeInterval(lifetime), attemptsLeft: maxAttempts)
        )
    }

    public init(hash: String, salt: String, expiresAt: Date, attemptsLeft: Int, usedAt: Date? = nil) {
        self.hash = hash
        self.salt = salt
        self.expiresAt = expiresAt
        self.attemptsLeft = attemptsLeft
        self.usedAt = usedAt
    }

    public enum Check: Equatable, Sendable {
        case accepted
        case wrong(attemptsLeft: Int)
        case expired, locked, used

        /// The message an API client and the approver's page show.
        public var message: String {
            switch self {
            case .accepted: "accepted"
            case .wrong(let left): left > 0 ? "wrong code; \(left) attempt\(left == 1 ? "" : "s") left" : "wrong code; the code is now locked"
            case .expired: "the code has expired; ask for a new one"
            case .locked: "too many wrong attempts; the code is locked; ask for a new one"
            case .used: "the code was already used"
            }
        }
    }

    /// Checks a candidate: every try counts against the five, right or wrong, before the comparison;
    /// a right code is used up. The caller stores the changed code in the same transaction that
    /// read it, with the row locked, so parallel tries cannot share an attempt.
    public mutating func check(_ candidate: String, binding: String, now: Date) -> Check {
        if usedAt != nil { return .used }
        if now >= expiresAt { return .expired }
        guard attemptsLeft > 0 else { return .locked }
        attemptsLeft -= 1
        let trimmed = candidate.filter { !$0.isWhitespace }
        // A candidate of the wrong shape is still a wrong attempt, and is still hashed: no early answer.
        let matches = ConstantTime.equals(Self.digest(trimmed, salt: salt, binding: binding), hash)
        guard matches, trimmed.count == Self.digits, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }) else { return .wrong(attemptsLeft: attemptsLeft) }
        usedAt = now
        return .accepted
    }

    static func digest(_ code: String, salt: String, binding: String) -> String {
        SHA256.hash(data: Data("\(salt)\u{0}\(binding)\u{0}\(code)".utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Where a caller's one-time code goes: the SMS gateway address of their mobile (ConnectWise: "only
/// available if the end-user's contact information has previously been completed with both a
/// mobile phone number and SMS gateway"). Refused with what is missing, never sent elsewhere.
public enum CallerAuthentication {
    public static func address(name: String, mobile: String?, gateway: String?) throws(TandemError) -> String {
        let hasMobile = !(mobile ?? "").trimmingCharacters(in: .whitespaces).isEmpty
        let hasGateway = !(gateway ?? "").trimmingCharacters(in: .whitespaces).isEmpty
        guard hasMobile, hasGateway, let mobile, let gateway else {
            let missing = [hasMobile ? nil : "no mobile number", hasGateway ? nil : "no SMS gateway"].compactMap { $0 }.joined(separator: " and ")
            throw .invalid("callerAuthentication", "\(name) cannot be authenticated by SMS: their contact has \(missing); add it to the contact first")
        }
        return try SMSAddress.make(mobile: mobile, gateway: gateway)
    }
}
