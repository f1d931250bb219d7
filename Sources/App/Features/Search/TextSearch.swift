import Fluent
import Foundation
import SQLKit
import TandemCore

/// The kinds of `search_documents` found by `TextSearch.documents`, each with the table whose id is the
/// document's `entity_id` and whose columns the reader's scope names (a site's network information: `sites`).
enum SearchDocumentKind: String, Sendable {
    case contact, reference, credential, network

    /// The table whose id is the document's `entity_id`, with the columns the reader's scope names.
    var table: ScopeTable {
        switch self {
        case .contact: Contact.scopeTable
        case .reference: Reference.scopeTable
        case .credential: SiteCredential.scopeTable
        case .network: Site.scopeTable
        }
    }

    var source: String { table.name }
}

/// One search result: what matched, and a snippet with the matched words between `SearchSnippet`'s marks.
struct SearchHit: Sendable, Equatable {
    var id: UUID
    var snippet: String
}

/// Full-text search over `search_documents` (migration `CreateSearchIndex`), one seam per database
/// (`db.stores.textSearch`). Callers give the reader's scope as a predicate on `tickets` or `contacts`
/// and the publish-to values of notes it may read (`AccessPolicy.searchableNoteAudiences`): a note it
/// may not read never makes its ticket match.
protocol TextSearch: Sendable {
    /// `tickets.id` has a document matching `query` among those the reader may read (for the ticket list's `q=`).
    func ticketMatch(_ query: SearchQuery, audiences: Set<PublishTo>) -> any SQLExpression
    /// Tickets matching under `scope`, best first, one hit per ticket.
    func tickets(_ query: SearchQuery, audiences: Set<PublishTo>, scope: any SQLExpression, limit: Int, on db: any Database) async throws -> [SearchHit]
    /// Documents of one kind (contacts, references, vault entries, network information) matching under
    /// `scope`, a predicate on the kind's `source` table (joined on its id); best first.
    func documents(_ query: SearchQuery, of kind: SearchDocumentKind, scope: any SQLExpression, limit: Int, on db: any Database) async throws -> [SearchHit]
}

extension TextSearch {
    /// The newest matching documents ranked: past this many, a word's matches are ranked among the newest
    /// only, so a search costs about the same whatever the word (1,000 took a rare word over the
    /// latency target; see `Benchmarks/RESULTS.md`).
    static var rankedDocuments: Int { 250 }

    /// Ticket texts (no publish-to) and notes of the reader's audiences.
    func audience(_ audiences: Set<PublishTo>) -> SQLQueryString {
        guard !audiences.isEmpty else { return "d.publish_to IS NULL" }
        return "(d.publish_to IS NULL OR d.publish_to IN (\(binds: audiences.map(\.rawValue).sorted())))"
    }

    /// The rows' hits in order, the first per id (a ticket matches once, by its best document).
    func hits(_ rows: [any SQLRow], limit: Int) throws -> [SearchHit] {
        var seen: Set<UUID> = []
        var hits: [SearchHit] = []
        for row in rows {
            let id = try row.decode(column: "id", as: UUID.self)
            guard seen.insert(id).inserted else { continue }
            hits.append(SearchHit(id: id, snippet: try row.decode(column: "snippet", as: String?.self) ?? ""))
            if hits.count == limit { break }
        }
        return hits
    }
}

/// SQLite: FTS5 over the documents (external content), ranked by BM25 with the title weighing more.
struct SQLiteTextSearch: TextSearch {

    func ticketMatch(_ query: SearchQuery, audiences: Set<PublishTo>) -> any SQLExpression {
        SQLQueryString(
            """
            tickets.id IN (SELECT d.ticket_id FROM search_fts JOIN search_documents d ON d.doc_id = search_fts.rowid
            WHERE search_fts MATCH \(bind: query.fts5) AND \(audience(audiences)))
            """)
    }

    func tickets(_ query: SearchQuery, audiences: Set<PublishTo>, scope: any SQLExpression, limit: Int, on db: any Database) async throws -> [SearchHit] {
        let ranked = try await db.sql.raw(
            """
            SELECT c.doc_id, c.ticket_id AS id FROM (
                SELECT search_fts.rowid AS doc_id, d.ticket_id, bm25(search_fts, 4.0, 1.0) AS score
                FROM search_fts JOIN search_documents d ON d.doc_id = search_fts.rowid JOIN tickets ON tickets.id = d.ticket_id
                WHERE search_fts MATCH \(bind: query.fts5) AND \(audience(audiences)) AND \(scope)
                ORDER BY search_fts.rowid DESC LIMIT \(literal: Self.rankedDocuments)) c
            ORDER BY c.score, c.doc_id DESC
            """
        ).all()
        // The best document of each ticket, then snippets for those only (a snippet reads the whole text).
        var seen: Set<UUID> = []
        var best: [(document: Int, ticket: UUID)] = []
        for row in ranked where best.count < limit {
            let ticket = try row.decode(column: "id", as: UUID.self)
            if seen.insert(ticket).inserted { best.append((try row.decode(column: "doc_id", as: Int.self), ticket)) }
        }
        guard !best.isEmpty else { return [] }
        // One pass over the matches between the first and last document (`+rowid` keeps the IN list out of
        // FTS5's plan: as a rowid lookup, a prefix query merged its terms' lists once per document).
        let documents = best.map(\.document)
        var snippets: [Int: String] = [:]
        for row in try await db.sql.raw(
            """
            SELECT rowid AS doc_id, snippet(search_fts, -1, \(bind: SearchSnippet.start), \(bind: SearchSnippet.end), '…', 16) AS snippet
            FROM search_fts WHERE search_fts MATCH \(bind: query.fts5) AND rowid BETWEEN \(bind: documents.min()!) AND \(bind: documents.max()!)
                AND +rowid IN (\(binds: documents))
            """
        ).all() {
            snippets[try row.decode(column: "doc_id", as: Int.self)] = try row.decode(column: "snippet", as: String?.self)
        }
        return best.map { SearchHit(id: $0.ticket, snippet: snippets[$0.document] ?? "") }
    }

    func documents(_ query: SearchQuery, of kind: SearchDocumentKind, scope: any SQLExpression, limit: Int, on db: any Database) async throws -> [SearchHit] {
        let rows = try await db.sql.raw(
            """
            SELECT d.entity_id AS id, snippet(search_fts, -1, \(bind: SearchSnippet.start), \(bind: SearchSnippet.end), '…', 16) AS snippet
            FROM search_fts JOIN search_documents d ON d.doc_id = search_fts.rowid
                JOIN \(ident: kind.source) ON \(ident: kind.source).id = d.entity_id
            WHERE search_fts MATCH \(bind: query.fts5) AND d.kind = \(bind: kind.rawValue) AND \(scope)
            ORDER BY bm25(search_fts, 4.0, 1.0) LIMIT \(literal: limit)
            """
        ).all()
        return try hits(rows, limit: limit)
    }
}

/// PostgreSQL: the stored `tsvector` under a GIN index, the newest matches (ids are time-ordered UUIDv7)
/// ranked by `ts_rank_cd`, as on SQLite; snippets (`ts_headline`) only for the page of hits, since they
/// read the whole text.
struct PostgresTextSearch: TextSearch {
    static let headline = "StartSel=\(SearchSnippet.start), StopSel=\(SearchSnippet.end), MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \""

    func ticketMatch(_ query: SearchQuery, audiences: Set<PublishTo>) -> any SQLExpression {
        SQLQueryString(
            """
            tickets.id IN (SELECT d.ticket_id FROM search_documents d
            WHERE d.tsv @@ to_tsquery('english', \(bind: query.tsquery)) AND \(audience(audiences)))
            """)
    }

    func tickets(_ query: SearchQuery, audiences: Set<PublishTo>, scope: any SQLExpression, limit: Int, on db: any Database) async throws -> [SearchHit] {
        let rows = try await db.sql.raw(
            """
            SELECT h.ticket_id AS id, ts_headline('english', h.title || ' ' || h.body, to_tsquery('english', \(bind: query.tsquery)),
                \(bind: Self.headline)) AS snippet
            FROM (SELECT c.ticket_id, c.title, c.body, ts_rank_cd(c.tsv, q) AS rank
                  FROM (SELECT d.ticket_id, d.title, d.body, d.tsv FROM search_documents d JOIN tickets ON tickets.id = d.ticket_id
                        WHERE d.tsv @@ to_tsquery('english', \(bind: query.tsquery)) AND \(audience(audiences)) AND \(scope)
                        ORDER BY d.entity_id DESC LIMIT \(literal: Self.rankedDocuments)) c,
                       to_tsquery('english', \(bind: query.tsquery)) q
                  ORDER BY rank DESC, c.ticket_id LIMIT \(literal: limit * 4)) h
            ORDER BY h.rank DESC, h.ticket_id
            """
        ).all()
        return try hits(rows, limit: limit)
    }

    func documents(_ query: SearchQuery, of kind: SearchDocumentKind, scope: any SQLExpression, limit: Int, on db: any Database) async throws -> [SearchHit] {
        let rows = try await db.sql.raw(
            """
            SELECT h.id, ts_headline('english', h.title || ' ' || h.body, to_tsquery('english', \(bind: query.tsquery)), \(bind: Self.headline)) AS snippet
            FROM (SELECT d.entity_id AS id, d.title, d.body, ts_rank_cd(d.tsv, q) AS rank
                  FROM search_documents d JOIN \(ident: kind.source) ON \(ident: kind.source).id = d.entity_id,
                      to_tsquery('english', \(bind: query.tsquery)) q
                  WHERE d.tsv @@ q AND d.kind = \(bind: kind.rawValue) AND \(scope)
                  ORDER BY rank DESC, d.entity_id LIMIT \(literal: limit)) h
            ORDER BY h.rank DESC, h.id
            """
        ).all()
        return try hits(rows, limit: limit)
    }
}
