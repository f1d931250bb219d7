import Fluent
import Foundation
import TandemCore

/// Which people a principal may know by name and id, asked of the policy (`AccessPolicy.peopleScope`)
/// and filtered in SQL. Every answer that names people outside the caller's own records goes through it.
enum PeopleDirectory {
    /// Of `ids` (of any kind of person), the ones `viewer` may see.
    static func visible(_ ids: some Sequence<UUID>, to viewer: Principal, on db: any Database) async throws -> Set<UUID> {
        let ids = Array(Set(ids))
        guard !ids.isEmpty else { return [] }
        var seen: Set<UUID> = []
        for kind in PrincipalKind.allCases {
            seen.formUnion(try await visible(ids, kind: kind, to: viewer, on: db))
        }
        return seen
    }

    /// Of `ids`, the people of `kind` that `viewer` may see.
    static func visible(_ ids: [UUID], kind: PrincipalKind, to viewer: Principal, on db: any Database) async throws -> Set<UUID> {
        let scope = AccessPolicy.peopleScope(for: viewer, kind)
        guard !ids.isEmpty, scope != .none else { return [] }
        switch kind {
        case .resource:
            return Set(try await Resource.query(on: db).filter(\.$id ~~ ids).filter(scope, on: Resource.scopeTable).all(\.$id))
        case .coManagingUser:
            return Set(try await CoManagingUser.query(on: db).filter(\.$id ~~ ids).filter(scope, on: CoManagingUser.scopeTable).all(\.$id))
        case .contact:
            return Set(try await Contact.query(on: db).filter(\.$id ~~ ids).filter(scope, on: Contact.scopeTable).all(\.$id))
        }
    }

    /// Of `ids`, the people of `kind` that `viewer` may not see (kept, unnamed, when it edits a list of them).
    static func hidden(_ ids: some Collection<UUID>, kind: PrincipalKind, from viewer: Principal, on db: any Database) async throws -> Set<UUID> {
        Set(ids).subtracting(try await visible(Array(ids), kind: kind, to: viewer, on: db))
    }

    /// What a kind of person is called: in a sentence ("co-managing user"), or at the start of a label.
    static func kindName(_ kind: PrincipalKind, capitalized: Bool = false) -> String {
        switch kind {
        case .resource: "MSP resource"
        case .coManagingUser: capitalized ? "Co-managing user" : "co-managing user"
        case .contact: capitalized ? "Contact" : "contact"
        }
    }

    /// How an actor or author the viewer may not see is shown instead of their name.
    static func anonymous(_ kind: PrincipalKind?) -> String {
        switch kind {
        case .resource, nil: "MSP staff"
        case .coManagingUser: "Co-managing user"
        case .contact: "Contact"
        }
    }
}

extension Resource {
    /// Resources belong to no organization: the policy sees them whole or not at all.
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id"])
}
