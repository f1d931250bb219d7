/// What kind of mail arrived: only `.regular` mail becomes a ticket or a reply; the others are recorded or
/// dropped without answering them (answering auto-replies and bounces is how mail loops start).
public enum MailKind: String, Sendable, Equatable, Codable, CaseIterable {
    case regular
    /// Out of office, vacation notices, autoresponders, bulk and list mail (RFC 3834 and the de facto headers).
    case autoReply
    /// A delivery status notification (RFC 3464): mail we sent did not arrive.
    case bounce
    /// A message disposition notification (RFC 8098): someone's client says our mail was read.
    case readReceipt
    /// Mail we sent ourselves, come back (a notification sent to an address that forwards to intake).
    case ownNotification
}

/// The kind of a message and the header or part that decided it.
public struct MailClassification: Sendable, Equatable {
    public var kind: MailKind
    /// Short and for people: "Auto-Submitted: auto-replied", "multipart/report; report-type=delivery-status".
    public var reason: String

    public init(kind: MailKind, reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// `ownDomain` is the domain of our Message-IDs (`MailMessage.messageId(_:domain:)`). Our own mail is
    /// recognised by the message's **own** Message-ID being ours and it being `Auto-Submitted: auto-generated`
    /// (as `MailMessage.build` writes): a person's reply to our notification references our ids in
    /// In-Reply-To/References but has its own Message-ID, and stays `.regular` so it threads.
    public static func classify(_ mail: ParsedMail, ownDomain: String?) -> MailClassification {
        let autoSubmitted = mail.headers.first("Auto-Submitted").map { token($0) }
        if let ownDomain, !ownDomain.isEmpty, let id = mail.messageId, let at = id.lastIndex(of: "@") {
            let domain = id[id.index(after: at)...].dropLast().lowercased()
            if domain == ownDomain.lowercased(), autoSubmitted == "auto-generated" {
                return MailClassification(kind: .ownNotification, reason: "Message-ID in \(ownDomain) and Auto-Submitted: auto-generated")
            }
        }
        let reportType = mail.contentType == "multipart/report" ? mail.reportType : nil
        if reportType == "delivery-status" || mail.partTypes.contains("message/delivery-status") || mail.partTypes.contains("message/global-delivery-status") {
            return MailClassification(kind: .bounce, reason: "a delivery status report (multipart/report; report-type=delivery-status)")
        }
        if reportType == "disposition-notification" || mail.partTypes.contains("message/disposition-notification") {
            return MailClassification(kind: .readReceipt, reason: "a disposition notification (multipart/report; report-type=disposition-notification)")
        }
        // Old-style bounces without a report: from the mail system, with a delivery failure subject.
        let fromLocal = mail.from.map { $0.email.split(separator: "@").first.map { $0.lowercased() } ?? "" } ?? ""
        let subject = (mail.subject ?? "").lowercased()
        let failureSubjects = [
            "undeliverable", "undelivered mail", "delivery status notification (failure)", "mail delivery failed", "delivery failure",
            "returned mail", "failure notice", "mail delivery system",
        ]
        if fromLocal == "mailer-daemon" || fromLocal == "postmaster", failureSubjects.contains(where: { subject.hasPrefix($0) }) {
            return MailClassification(kind: .bounce, reason: "from \(fromLocal) with a delivery failure subject")
        }
        if let autoSubmitted, autoSubmitted != "no", !autoSubmitted.isEmpty {
            return MailClassification(kind: .autoReply, reason: "Auto-Submitted: \(autoSubmitted)")
        }
        for header in ["X-Autoreply", "X-Autorespond", "X-Autoresponder"] {
            if let value = mail.headers.first(header), token(value) != "no" {
                return MailClassification(kind: .autoReply, reason: "\(header) header")
            }
        }
        if let precedence = mail.headers.first("Precedence").map({ token($0) }), ["bulk", "junk", "auto_reply", "auto-reply"].contains(precedence) {
            return MailClassification(kind: .autoReply, reason: "Precedence: \(precedence)")
        }
        // Subjects automatic replies are known to carry (prefixes only; a person asking about "out of office
        // hours" is not an auto-reply).
        let autoSubjects = [
            "automatic reply:", "auto:", "autoreply:", "auto-reply:", "auto reply:", "out of office:", "out of office autoreply:",
            "out of office reply", "abwesenheitsnotiz:", "réponse automatique", "respuesta automática:", "automatisch antwoord:",
        ]
        if let match = autoSubjects.first(where: { subject.hasPrefix($0) }) {
            return MailClassification(kind: .autoReply, reason: "subject starts with \"\(match)\"")
        }
        return MailClassification(kind: .regular, reason: "a message from a person")
    }

    /// The value's first token, lowercased (`auto-replied; owner-email=…` → `auto-replied`).
    static func token(_ value: String) -> String {
        let head = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(head).trimmingASCIIWhitespace().lowercased()
    }
}
