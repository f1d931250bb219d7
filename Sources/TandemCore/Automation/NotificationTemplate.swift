import Foundation

/// The placeholders a template may use, written `{ticket.number}`; `{{` and `}}` write a brace.
public enum TemplatePlaceholder: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
    case ticketNumber = "ticket.number"
    /// `[#T-000042]`, which replies are threaded on: keep it in subjects.
    case ticketReference = "ticket.reference"
    case ticketTitle = "ticket.title"
    case ticketStatus = "ticket.status"
    case ticketPriority = "ticket.priority"
    case organization
    case site
    case contactName = "contact.name"
    case recipientName = "recipient.name"
    /// The site's "company name used in greeting" (ConnectWise), else the organization's name.
    case greetingCompany
    /// The ticket's page for the recipient.
    case link
    case noteText = "note.text"
    case noteAuthor = "note.author"
}

/// A notification template: a subject and a body with placeholders. The plain-text body is also the HTML
/// body (escaped, line breaks kept) unless `htmlBody` gives the administrator's own markup; values are
/// HTML-escaped either way, so a note's text never becomes markup.
public struct NotificationTemplate: Codable, Sendable, Equatable {
    public var kind: NotificationKind
    public var subject: String
    public var body: String
    public var htmlBody: String?

    public init(kind: NotificationKind, subject: String, body: String, htmlBody: String? = nil) {
        self.kind = kind
        self.subject = subject
        self.body = body
        self.htmlBody = htmlBody
    }

    /// Every problem of a template about to be saved: unknown placeholders, unclosed braces, a subject over lines.
    public func validate() throws(TandemError) {
        var validator = FieldValidator()
        if let subject = validator.text(subject, "subject", max: 500) { Self.check(subject, "subject", &validator) }
        if let body = validator.text(body, "body", max: 50_000, multiline: true) { Self.check(body, "body", &validator) }
        if let htmlBody, let html = validator.text(htmlBody, "htmlBody", max: 100_000, multiline: true) { Self.check(html, "htmlBody", &validator) }
        try validator.check()
    }

    private static func check(_ text: String, _ field: String, _ validator: inout FieldValidator) {
        do throws(TemplateError) {
            _ = try TemplateText.parse(text)
        } catch {
            validator.fail(field, error.message)
        }
    }

    /// The subject (one line), the plain text and the HTML of this template for `values`. A placeholder without
    /// a value renders empty. Rendering a template that does not parse (never saved through `validate`) renders it as is.
    public func render(_ values: [TemplatePlaceholder: String]) -> RenderedNotification {
        let subjectText = TemplateText.render(subject, values) { $0 }
        let text = TemplateText.render(body, values) { $0 }
        let html: String
        if let htmlBody {
            html = TemplateText.render(htmlBody, values, escape: HTML.escape)
        } else {
            html = HTML.paragraphs(text: body, values)
        }
        // A subject is one line whatever the values hold; the mail builder refuses nothing it is given.
        let oneLine = subjectText.split(whereSeparator: \.isNewline).joined(separator: " ")
        return RenderedNotification(subject: oneLine, text: text, html: html)
    }
}

public struct RenderedNotification: Codable, Sendable, Equatable {
    public var subject: String
    public var text: String
    public var html: String

    public init(subject: String, text: String, html: String) {
        self.subject = subject
        self.text = text
        self.html = html
    }
}

struct TemplateError: Error {
    var message: String
}

/// The template language: literal text and `{placeholder}`.
enum TemplateText {
    enum Part: Equatable {
        case literal(String)
        case placeholder(TemplatePlaceholder)
    }

    static func parse(_ template: String) throws(TemplateError) -> [Part] {
        var parts: [Part] = []
        var literal = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            let next = template.index(after: index)
            if character == "{", next < template.endIndex, template[next] == "{" {
                literal.append("{")
                index = template.index(after: next)
            } else if character == "}", next < template.endIndex, template[next] == "}" {
                literal.append("}")
                index = template.index(after: next)
            } else if character == "{" {
                guard let close = template[next...].firstIndex(of: "}") else {
                    throw TemplateError(message: "a '{' is never closed; write {{ for a brace")
                }
                let name = String(template[next..<close])
                guard let placeholder = TemplatePlaceholder(rawValue: name) else {
                    let known = TemplatePlaceholder.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ")
                    throw TemplateError(message: "unknown placeholder {\(name)}; known placeholders are \(known)")
                }
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(.placeholder(placeholder))
                index = template.index(after: close)
            } else if character == "}" {
                throw TemplateError(message: "a '}' closes nothing; write }} for a brace")
            } else {
                literal.append(character)
                index = next
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }

    /// Literals as they are, values through `escape`.
    static func render(_ template: String, _ values: [TemplatePlaceholder: String], escape: (String) -> String) -> String {
        guard let parts = try? parse(template) else { return template }
        return parts.map { part in
            switch part {
            case .literal(let text): text
            case .placeholder(let placeholder): escape(values[placeholder] ?? "")
            }
        }.joined()
    }
}

enum HTML {
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A plain-text template as HTML: everything escaped (literals and values), line breaks as `<br>`.
    static func paragraphs(text template: String, _ values: [TemplatePlaceholder: String]) -> String {
        let escaped = TemplateText.render(template, values) { $0 }
        let lines = escape(escaped).replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        return "<!DOCTYPE html>\n<html><body>\n<p>" + lines.joined(separator: "<br>\n") + "</p>\n</body></html>\n"
    }
}

extension NotificationTemplate {
    /// The built-in template of `kind` (every kind has one).
    public static func builtIn(_ kind: NotificationKind) -> NotificationTemplate {
        defaults.first { $0.kind == kind } ?? NotificationTemplate(kind: kind, subject: "{ticket.reference} {ticket.title}", body: "{link}")
    }

    /// The templates a fresh install has (issue 16's "works out of the box").
    public static let defaults: [NotificationTemplate] = [
        NotificationTemplate(
            kind: .ticketAcknowledgement, subject: "{ticket.reference} We have received your request: {ticket.title}",
            body: """
                Hello {contact.name},

                {greetingCompany} has received your request "{ticket.title}" and opened ticket #{ticket.number}.
                We will be in touch soon. You can follow the ticket here: {link}
                """),
        NotificationTemplate(
            kind: .noteToContact, subject: "{ticket.reference} New reply: {ticket.title}",
            body: """
                Hello {contact.name},

                {note.author} wrote on ticket #{ticket.number} ({ticket.title}):

                {note.text}

                Reply or follow the ticket here: {link}
                """),
        NotificationTemplate(
            kind: .assignment, subject: "{ticket.reference} Assigned to you: {ticket.title}",
            body: """
                Hello {recipient.name},

                Ticket #{ticket.number} "{ticket.title}" of {organization} ({site}) is now assigned to you.
                Priority: {ticket.priority}. Status: {ticket.status}.

                {link}
                """),
        NotificationTemplate(
            kind: .noteToCoManaged, subject: "{ticket.reference} New note: {ticket.title}",
            body: """
                Hello {recipient.name},

                {note.author} added a note to ticket #{ticket.number} "{ticket.title}" of {organization}:

                {note.text}

                {link}
                """),
        NotificationTemplate(
            kind: .ticketUpdated, subject: "{ticket.reference} Ticket news: {ticket.title}",
            body: """
                Hello {recipient.name},

                Ticket #{ticket.number} "{ticket.title}" of {organization} has news.
                Priority: {ticket.priority}. Status: {ticket.status}.

                {link}
                """),
        NotificationTemplate(
            kind: .statusChanged, subject: "{ticket.reference} Now {ticket.status}: {ticket.title}",
            body: """
                Hello {recipient.name},

                Ticket #{ticket.number} "{ticket.title}" of {organization} is now {ticket.status}.

                {link}
                """),
        NotificationTemplate(
            kind: .timeEntryAdded, subject: "{ticket.reference} Time logged: {ticket.title}",
            body: """
                Hello {recipient.name},

                {note.author} logged time on ticket #{ticket.number} "{ticket.title}" of {organization}.

                {link}
                """),
        NotificationTemplate(
            kind: .dueDateApproaching, subject: "{ticket.reference} Due soon: {ticket.title}",
            body: """
                Hello {recipient.name},

                Ticket #{ticket.number} "{ticket.title}" of {organization} is due soon.

                {link}
                """),
        NotificationTemplate(
            kind: .slaApproaching, subject: "{ticket.reference} SLA target near: {ticket.title}",
            body: """
                Hello {recipient.name},

                Ticket #{ticket.number} "{ticket.title}" of {organization} is close to missing its SLA target.

                {link}
                """),
        NotificationTemplate(
            kind: .slaBreached, subject: "{ticket.reference} SLA breached: {ticket.title}",
            body: """
                Hello {recipient.name},

                Ticket #{ticket.number} "{ticket.title}" of {organization} has missed its SLA target.

                {link}
                """),
    ]
}

extension TemplatePlaceholder {
    /// The values of every placeholder for one notification, from what the server has loaded: the ticket, the
    /// names its ids stand for, the recipient and the item. `greetingCompany` falls back to the organization's name.
    public static func values(
        ticket: TicketFacts, organizationName: String, siteName: String?, contactName: String?, greetingCompany: String?, link: String,
        recipientName: String?, item: NotifiedItem?
    ) -> [TemplatePlaceholder: String] {
        let greeting = greetingCompany.map(Whitespace.trim).flatMap { $0.isEmpty ? nil : $0 } ?? organizationName
        return [
            .ticketNumber: String(ticket.number), .ticketReference: TicketReference.string(number: ticket.number), .ticketTitle: ticket.title,
            .ticketStatus: ticket.status.label, .ticketPriority: ticket.priority.rawValue,
            .organization: organizationName, .site: siteName ?? "", .contactName: contactName ?? "", .recipientName: recipientName ?? "",
            .greetingCompany: greeting, .link: link, .noteText: item?.text ?? "", .noteAuthor: item?.authorName ?? "",
        ]
    }
}
