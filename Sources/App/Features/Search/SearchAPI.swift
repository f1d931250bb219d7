import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

struct SearchResults: Content {
    /// One result with its snippet: safe HTML, the text escaped and the matched words in `<mark>`.
    struct Match: Content {
        var kind: SearchAPI.Kind
        var id: UUID
        var snippet: String
    }

    /// A reference found, without its body (open it for that).
    struct ReferenceMatch: Content {
        var id: UUID
        var siteId: UUID?
        var organizationId: UUID?
        var title: String
        var tags: [String]
    }

    /// A site's documentation found: a vault entry (`credential`, never its secret) or the site's network
    /// information (`network`, whose id is the site's).
    struct DocumentationMatch: Content {
        var kind: String
        var id: UUID
        var siteId: UUID
        var organizationId: UUID
        var title: String
    }

    var tickets: [TicketDTO]
    var contacts: [ContactDTO]
    var organizations: [OrganizationDTO]
    var references: [ReferenceMatch]
    var documentation: [DocumentationMatch]
    /// Tickets, contacts, references and documentation again, best first within each kind, with what matched.
    var matches: [Match]
}

/// `GET /api/v1/search?q=&kinds=`: tickets (title, description and the notes the reader may read),
/// contacts (name, email), references (title, body, tags) and documentation (vault entries' names,
/// usernames, URLs and notes; network information) by full text, ranked, under the policy (`TextSearch`);
/// organizations by name.
enum SearchAPI {
    enum Kind: String, Codable, Sendable, CaseIterable {
        case tickets, contacts, organizations, references, documentation
    }

    static func register(_ api: any RoutesBuilder) {
        api.get("search") { req async throws -> Response in
            let principal = try req.principal
            var validator = FieldValidator()
            let text = validator.text(req.queryText("q"), "q", max: 200)
            var kinds = Set(Kind.allCases)
            if let given = req.queryText("kinds"), !given.isEmpty {
                kinds = Set(given.split(separator: ",").compactMap { validator.choice(String($0), "kinds", as: Kind.self) })
            }
            try validator.check()
            let query = try SearchQuery.parse(text!)
            let response = try await search(query, text: text!, kinds: kinds, by: principal, on: req.db).encodeResponse(for: req)
            // Tickets show the fields the principal's ticket GET shows (`AccessPolicy.visibleTicketFields`).
            guard let fields = TicketField.shown(to: principal), let body = response.body.data,
                var results = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            else { return response }
            results["tickets"] = (results["tickets"] as? [[String: Any]] ?? []).map { TicketField.keep(fields, of: $0) }
            response.body = .init(data: try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys, .withoutEscapingSlashes]))
            return response
        }
    }

    static func search(
        _ query: SearchQuery, text: String, kinds: Set<Kind> = Set(Kind.allCases), by principal: Principal, on db: any Database, limit: Int = 20
    ) async throws -> SearchResults {
        let search = db.stores.textSearch
        var results = SearchResults(tickets: [], contacts: [], organizations: [], references: [], documentation: [], matches: [])
        if kinds.contains(.tickets) {
            let hits = try await search.tickets(
                query, audiences: AccessPolicy.searchableNoteAudiences(for: principal),
                scope: AccessPolicy.ticketScope(for: principal).sql(for: Ticket.scopeTable), limit: limit, on: db)
            let ids = hits.map(\.id)
            let tickets = ids.isEmpty ? [] : try await Ticket.query(on: db).filter(\.$id ~~ ids).all()
            let assignees = try await TicketService.assigneeIds(of: ids, on: db)
            let byId = Dictionary(uniqueKeysWithValues: tickets.map { ($0.id!, $0) })
            results.tickets = ids.compactMap { id in byId[id].map { TicketDTO($0, assignees: assignees[id] ?? []) } }
            results.matches += hits.map { SearchResults.Match(kind: .tickets, id: $0.id, snippet: SearchSnippet.html($0.snippet)) }
        }
        if kinds.contains(.contacts) {
            let hits = try await documents(query, .contact, scope: AccessPolicy.organizationScope(for: principal, area: .contacts, .view), limit: limit, on: db)
            let ids = hits.map(\.id)
            let byId = Dictionary(uniqueKeysWithValues: (ids.isEmpty ? [] : try await Contact.query(on: db).filter(\.$id ~~ ids).all()).map { ($0.id!, $0) })
            results.contacts = ids.compactMap { byId[$0].map(ContactDTO.init) }
            results.matches += hits.map { SearchResults.Match(kind: .contacts, id: $0.id, snippet: SearchSnippet.html($0.snippet)) }
        }
        if kinds.contains(.references) {
            let hits = try await documents(query, .reference, scope: AccessPolicy.referenceScope(for: principal, .view), limit: limit, on: db)
            let ids = hits.map(\.id)
            let byId = Dictionary(uniqueKeysWithValues: (ids.isEmpty ? [] : try await Reference.query(on: db).filter(\.$id ~~ ids).all()).map { ($0.id!, $0) })
            results.references = ids.compactMap { id in
                byId[id].map { SearchResults.ReferenceMatch(id: id, siteId: $0.siteId, organizationId: $0.organizationId, title: $0.title, tags: $0.tags) }
            }
            results.matches += hits.map { SearchResults.Match(kind: .references, id: $0.id, snippet: SearchSnippet.html($0.snippet)) }
        }
        if kinds.contains(.documentation) {
            let credentials = try await documents(query, .credential, scope: AccessPolicy.vaultScope(for: principal, .view), limit: limit, on: db)
            let networks = try await documents(query, .network, scope: AccessPolicy.siteDocumentationScope(for: principal, .view), limit: limit, on: db)
            let entries = Dictionary(
                uniqueKeysWithValues: (credentials.isEmpty ? [] : try await SiteCredential.query(on: db).filter(\.$id ~~ credentials.map(\.id)).all()).map {
                    ($0.id!, $0)
                })
            let sites = Dictionary(
                uniqueKeysWithValues: (networks.isEmpty ? [] : try await Site.query(on: db).filter(\.$id ~~ networks.map(\.id)).all()).map { ($0.id!, $0) })
            results.documentation =
                credentials.compactMap { hit in
                    entries[hit.id].map {
                        SearchResults.DocumentationMatch(kind: "credential", id: hit.id, siteId: $0.siteId, organizationId: $0.organizationId, title: $0.name)
                    }
                }
                + networks.compactMap { hit in
                    sites[hit.id].map {
                        SearchResults.DocumentationMatch(
                            kind: "network", id: hit.id, siteId: hit.id, organizationId: $0.organizationId, title: "Network information · \($0.name)")
                    }
                }
            results.matches += (credentials + networks).map { SearchResults.Match(kind: .documentation, id: $0.id, snippet: SearchSnippet.html($0.snippet)) }
        }
        if kinds.contains(.organizations) {
            // A few hundred names: a scan of the names is as fast as an index would be.
            results.organizations = try await Organization.query(on: db)
                .filter(AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable)
                .filter(.sql(SQLQueryString("LOWER(organizations.name) LIKE \(bind: like(text)) ESCAPE '\\'")))
                .sort(\.$name).limit(limit).all().map(OrganizationDTO.init)
        }
        return results
    }

    /// Documents of one kind under the reader's scope on the kind's table; none asked for when the scope is none.
    static func documents(_ query: SearchQuery, _ kind: SearchDocumentKind, scope: Scope, limit: Int, on db: any Database) async throws -> [SearchHit] {
        guard scope != .none else { return [] }
        return try await db.stores.textSearch.documents(query, of: kind, scope: scope.sql(for: kind.table), limit: limit, on: db)
    }

    /// A case-insensitive LIKE pattern for a literal text.
    static func like(_ text: String) -> String {
        "%"
            + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}
