import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// `/people`: the people directory, as the access policy lets the principal know people
/// (`AccessPolicy.peopleScope`): MSP resources, co-managing users, contacts; searched by name.
enum PeoplePage {
    static let view = "people/list"
    static let maxPeople = 50

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var q: String
        var kindOptions: [SelectOption]
        var people: [Person]
        var searched: Bool
    }

    struct Person: Encodable, Sendable {
        var kind: String
        var kindLabel: String
        var id: String
        var name: String
        var detail: String
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let q = String((req.queryText("q") ?? "").trimmingCharacters(in: .whitespaces).prefix(200))
        let kind = PrincipalKind(rawValue: req.queryText("kind") ?? "")
        let model = Model(
            layout: req.pageLayout("People", section: "people"), q: q, kindOptions: kindOptions(kind),
            people: try await people(q, kind: kind, for: principal, on: req.db), searched: !q.isEmpty || kind != nil)
        return try await req.renderPage(view, model)
    }

    static func kindOptions(_ kind: PrincipalKind?) -> [SelectOption] {
        [SelectOption(value: "", label: "Anyone", selected: kind == nil)]
            + PrincipalKind.allCases.map { SelectOption(value: $0.rawValue, label: PeopleDirectory.kindName($0, capitalized: true), selected: $0 == kind) }
    }

    /// People matching `q` by name (or login), of `kind` or any, as the viewer's people directory has them.
    static func people(_ q: String, kind: PrincipalKind?, for principal: Principal, on db: any Database) async throws -> [Person] {
        let needle = q.lowercased()
        func matches(_ texts: String?...) -> Bool { needle.isEmpty || texts.contains { $0?.lowercased().contains(needle) ?? false } }
        var found: [Person] = []
        let kinds = kind.map { [$0] } ?? PrincipalKind.allCases
        if kinds.contains(.resource) {
            let scope = AccessPolicy.peopleScope(for: principal, .resource)
            if scope != .none {
                for resource in try await Resource.query(on: db).filter(\.$active == true).filter(scope, on: Resource.scopeTable).sort(\.$lastName)
                    .limit(PageOptions.maxOptions).all() where matches(resource.fullName, resource.username)
                {
                    found.append(
                        Person(
                            kind: "resource", kindLabel: PeopleDirectory.kindName(.resource, capitalized: true), id: resource.id!.uuidString,
                            name: resource.fullName, detail: ""))
                }
            }
        }
        if kinds.contains(.coManagingUser) {
            let scope = AccessPolicy.peopleScope(for: principal, .coManagingUser)
            if scope != .none {
                let users = try await CoManagingUser.query(on: db).filter(\.$erased == false).filter(scope, on: CoManagingUser.scopeTable)
                    .sort(\.$username).limit(PageOptions.maxOptions).all()
                let names = try await PeopleNames.names(users.compactMap(\.id), to: principal, on: db)
                for user in users where matches(names[user.id!], user.username) {
                    found.append(
                        Person(
                            kind: "coManagingUser", kindLabel: PeopleDirectory.kindName(.coManagingUser, capitalized: true), id: user.id!.uuidString,
                            name: names[user.id!] ?? user.username,
                            detail: user.active ? "" : "Inactive"))
                }
            }
        }
        if kinds.contains(.contact) {
            let scope = AccessPolicy.peopleScope(for: principal, .contact)
            if scope != .none {
                var query = Contact.query(on: db).filter(scope, on: Contact.scopeTable)
                if !needle.isEmpty {
                    let pattern = SearchAPI.like(q)
                    query = query.filter(
                        .sql(
                            SQLQueryString(
                                "(LOWER(contacts.first_name || ' ' || contacts.last_name) LIKE \(bind: pattern) ESCAPE '\\' OR LOWER(COALESCE(contacts.email, '')) LIKE \(bind: pattern) ESCAPE '\\')"
                            )))
                }
                for contact in try await query.sort(\.$lastName).limit(maxPeople).all() {
                    found.append(
                        Person(
                            kind: "contact", kindLabel: PeopleDirectory.kindName(.contact, capitalized: true), id: contact.id!.uuidString,
                            name: contact.fullName, detail: contact.email ?? ""))
                }
            }
        }
        return Array(found.prefix(maxPeople))
    }

}
