import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

struct SearchResults: Content {
    var tickets: [TicketDTO]
    var contacts: [ContactDTO]
    var organizations: [OrganizationDTO]
}

/// `GET /api/v1/search?q=`: tickets, contacts and organizations matching the text, under the policy.
enum SearchAPI {
    static func register(_ api: any RoutesBuilder) {
        api.get("search") { req async throws -> Response in
            let principal = try req.principal
            var validator = FieldValidator()
            let text = validator.text(req.queryText("q"), "q", max: 200)
            try validator.check()
            let response = try await search(text!, by: principal, on: req.db).encodeResponse(for: req)
            // Tickets show the fields the principal's ticket GET shows (`AccessPolicy.visibleTicketFields`).
            guard let fields = TicketField.shown(to: principal), let body = response.body.data,
                var results = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            else { return response }
            results["tickets"] = (results["tickets"] as? [[String: Any]] ?? []).map { TicketField.keep(fields, of: $0) }
            response.body = .init(data: try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys, .withoutEscapingSlashes]))
            return response
        }
    }

    static func search(_ text: String, by principal: Principal, on db: any Database, limit: Int = 20) async throws -> SearchResults {
        var filter = TicketFilter()
        filter.text = text
        let tickets = try await TicketService.list(filter, page: PageRequest(limit: limit), by: principal, on: db).items
        let pattern = like(text)
        let contacts = try await Contact.query(on: db)
            .filter(AccessPolicy.organizationScope(for: principal, area: .contacts, .view), on: Contact.scopeTable)
            .filter(
                .sql(
                    SQLQueryString(
                        "(LOWER(contacts.first_name || ' ' || contacts.last_name) LIKE \(bind: pattern) ESCAPE '\\' OR LOWER(COALESCE(contacts.email, '')) LIKE \(bind: pattern) ESCAPE '\\')"
                    ))
            )
            .limit(limit).all()
        let organizations = try await Organization.query(on: db)
            .filter(AccessPolicy.organizationScope(for: principal, area: .organizations, .view), on: Organization.scopeTable)
            .filter(.sql(SQLQueryString("LOWER(organizations.name) LIKE \(bind: pattern) ESCAPE '\\'")))
            .limit(limit).all()
        return SearchResults(tickets: tickets, contacts: contacts.map(ContactDTO.init), organizations: organizations.map(OrganizationDTO.init))
    }

    /// A case-insensitive LIKE pattern for a literal text.
    static func like(_ text: String) -> String {
        "%"
            + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}
