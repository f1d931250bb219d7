import Foundation

/// A full-text search as the user typed it, reduced to words: letters and digits only, so nothing
/// of the text reaches a query language (FTS5's MATCH, PostgreSQL's `to_tsquery`) as syntax. Every
/// word must match; the last one also matches as a prefix, so a search works while it is typed.
public struct SearchQuery: Sendable, Equatable {
    public static let maxWords = 12
    public static let maxWordLength = 64

    public let words: [String]

    /// Nil when the text holds no word to search for.
    public init?(_ text: String) {
        let words = text.lowercased()
            .split { !($0.isLetter || $0.isNumber) }
            .map { String($0.prefix(Self.maxWordLength)) }
        guard !words.isEmpty else { return nil }
        self.words = Array(words.prefix(Self.maxWords))
    }

    /// The query for the validator: a `q` without words is a problem that says so.
    public static func parse(_ text: String, field: String = "q") throws(TandemError) -> SearchQuery {
        guard let query = SearchQuery(text) else { throw .invalid(field, "has no words to search for (letters or digits)") }
        return query
    }

    /// For SQLite FTS5's MATCH: each word a quoted string (quotes cannot occur in a word), the last a prefix.
    public var fts5: String {
        words.enumerated().map { index, word in "\"\(word)\"\(index == words.count - 1 ? "*" : "")" }.joined(separator: " ")
    }

    /// For PostgreSQL's `to_tsquery`: the words joined with `&`, the last a prefix (`:*`).
    public var tsquery: String {
        words.enumerated().map { index, word in "\(word)\(index == words.count - 1 ? ":*" : "")" }.joined(separator: " & ")
    }
}

/// What the databases mark a matched word with in a snippet: private-use characters no text holds,
/// turned into `<mark>` only after the rest is HTML-escaped.
public enum SearchSnippet {
    public static let start = "\u{E000}", end = "\u{E001}"

    /// Safe HTML: the text escaped, the matched words in `<mark>`.
    public static func html(_ raw: String) -> String {
        let cleaned = raw.replacingOccurrences(of: "\n", with: " ")
        return HTML.escape(cleaned).replacingOccurrences(of: start, with: "<mark>").replacingOccurrences(of: end, with: "</mark>")
    }
}

extension AccessPolicy {
    /// The publish-to values of notes whose words may find a ticket for `principal`: only notes it may
    /// read, so an internal note's words never find a ticket for a co-managing user or a contact.
    public static func searchableNoteAudiences(for principal: Principal) -> Set<PublishTo> {
        ticketItemScope(for: principal, area: .notes) == .none ? [] : readablePublishTo(principal)
    }
}
