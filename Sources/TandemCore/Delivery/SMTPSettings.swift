import Foundation

/// Where mail goes: `TANDEM_SMTP_URL` (`smtp://user:pass@host:587?starttls=1`, `smtps://host:465`
/// for implicit TLS, `smtp://host:25` in the clear) and `TANDEM_MAIL_FROM`. The password is kept
/// for the SMTP AUTH exchange only; `description` and errors never show it.
public struct SMTPSettings: Sendable, Equatable, CustomStringConvertible {
    public enum Security: String, Sendable, Equatable {
        /// No TLS (a relay on the same host or network).
        case none
        /// Plain connection upgraded with STARTTLS before anything else (port 587).
        case startTLS
        /// TLS from the first byte (port 465).
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// The envelope sender and the `From:` address.
    public var from: String
    /// Accept any certificate: only for a test server with a self-signed certificate (`?verify=0`).
    public var verifyCertificate: Bool
    /// The name sent with EHLO.
    public var heloName: String

    public var description: String {
        "\(security == .implicitTLS ? "smtps" : "smtp")://\(username.map { "\($0)@" } ?? "")\(host):\(port) (\(security.rawValue))"
    }

    public init(
        host: String, port: Int, security: Security = .none, username: String? = nil, password: String? = nil, from: String,
        verifyCertificate: Bool = true, heloName: String = "tandem.localhost"
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.verifyCertificate = verifyCertificate
        self.heloName = heloName
    }

    /// Parses `TANDEM_SMTP_URL` with `from` (`TANDEM_MAIL_FROM`). The errors name what is wrong
    /// without repeating the URL (it may hold the password).
    public static func parse(url text: String, from: String) throws -> SMTPSettings {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), ["smtp", "smtps"].contains(scheme) else {
            throw TandemError.invalid("TANDEM_SMTP_URL", "TANDEM_SMTP_URL must be smtp://[user:password@]host[:port][?starttls=1] or smtps://…")
        }
        guard let host = components.host, !host.isEmpty else { throw TandemError.invalid("TANDEM_SMTP_URL", "TANDEM_SMTP_URL has no host") }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name.lowercased(), $0.value ?? "") }, uniquingKeysWith: { $1 })
        let startTLS = ["1", "true", "yes"].contains(query["starttls"]?.lowercased() ?? "")
        let security: Security = scheme == "smtps" ? .implicitTLS : startTLS ? .startTLS : .none
        let port = components.port ?? (security == .implicitTLS ? 465 : startTLS ? 587 : 25)
        guard (1...65535).contains(port) else { throw TandemError.invalid("TANDEM_SMTP_URL", "TANDEM_SMTP_URL has an invalid port") }
        let sender = from.trimmingCharacters(in: .whitespaces)
        guard MailAddress.isValid(sender) else {
            throw TandemError.invalid("TANDEM_MAIL_FROM", "TANDEM_MAIL_FROM must be one mail address, such as helpdesk@msp.example")
        }
        return SMTPSettings(
            host: host, port: port, security: security, username: components.user?.removingPercentEncoding,
            password: components.password?.removingPercentEncoding, from: sender,
            verifyCertificate: !["0", "false", "no"].contains(query["verify"]?.lowercased() ?? ""),
            heloName: query["helo"].flatMap { $0.isEmpty ? nil : $0 } ?? "tandem.localhost")
    }
}
