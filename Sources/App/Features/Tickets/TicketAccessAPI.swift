import Fluent
import Foundation
import TandemCore
import Vapor

/// Explain access (`/tickets/{id}/access`) and audience preview (`/tickets/{id}/audience`), SPEC §13.
enum TicketAccessAPI {
    static func register(_ api: any RoutesBuilder) {
        api.get("tickets", ":id", "access") { req async throws -> TicketAccessDTO in
            let principal = try req.principal
            try AccessPolicy.authorizeAdmin(principal, .manageUsers)
            var validator = FieldValidator()
            let subjectId = validator.id(req.queryText("principalId"), "principalId")
            try validator.check()
            return try await explain(ticketId: req.id("id", TicketService.what), subjectId: subjectId!, by: principal, on: req.db)
        }
        api.get("tickets", ":id", "audience") { req async throws -> AudienceDTO in
            var validator = FieldValidator()
            let publishTo = validator.choice(req.queryText("publishTo"), "publishTo", as: PublishTo.self)
            try validator.check()
            return try await audience(ticketId: req.id("id", TicketService.what), publishTo: publishTo!, by: req.principal, on: req.db)
        }
    }

    /// Loads any principal by id, whatever its kind.
    static func anyPrincipal(_ id: UUID, on db: any Database) async throws -> Principal? {
        for kind in PrincipalKind.allCases {
            if let principal = try await PrincipalLoader.load(id: id, kind: kind, on: db) { return principal }
        }
        return nil
    }

    static func explain(ticketId: UUID, subjectId: UUID, by principal: Principal, on db: any Database) async throws -> TicketAccessDTO {
        let ticket = try await TicketService.visible(ticketId, by: principal, on: db)
        // Someone the admin may not see (its client restrictions) is explained as no one.
        guard try await PeopleDirectory.visible([subjectId], to: principal, on: db).contains(subjectId),
            let subject = try await anyPrincipal(subjectId, on: db)
        else { throw TandemError.notFound("principal") }
        let assignees = try await TicketService.assigneeIds(of: [ticketId], on: db)[ticketId] ?? []
        let explanation = AccessPolicy.explainTicket(subject, TicketService.facts(ticket, assignees: assignees))
        return TicketAccessDTO(
            ticketId: ticketId.uuidString, principalId: subjectId.uuidString, principalKind: subject.kind.rawValue,
            principalName: subject.displayName, allowed: explanation.allowed, reasons: explanation.reasons)
    }

    /// Who could read an item with `publishTo` on this ticket: every candidate principal, asked through the policy.
    /// Only for those who may add items to the ticket; it names only the people the caller may see.
    static func audience(ticketId: UUID, publishTo: PublishTo, by principal: Principal, on db: any Database) async throws -> AudienceDTO {
        let ticket = try await TicketService.visible(ticketId, by: principal, on: db)
        try AccessPolicy.authorizeAudiencePreview(principal)
        let assignees = try await TicketService.assigneeIds(of: [ticketId], on: db)[ticketId] ?? []
        let facts = TicketService.facts(ticket, assignees: assignees)
        var candidates: [Principal] = []
        for resource in try await Resource.query(on: db).filter(\.$active == true).all() {
            if let loaded = try await PrincipalLoader.load(id: resource.id!, kind: .resource, on: db) { candidates.append(loaded) }
        }
        for user in try await coManagingUsers(of: ticket.organizationId, on: db) {
            if !candidates.contains(where: { $0.id == user.id }), let loaded = try await PrincipalLoader.principal(for: user, on: db) {
                candidates.append(loaded)
            }
        }
        var contacts = try await Contact.query(on: db).filter(\.$organizationId == ticket.organizationId).filter(\.$portalOrganizationWide == true).all()
        if let contactId = ticket.contactId, let contact = try await Contact.find(contactId, on: db) { contacts.append(contact) }
        for contact in contacts where !candidates.contains(where: { $0.id == contact.id }) {
            if let loaded = try await PrincipalLoader.load(id: contact.id!, kind: .contact, on: db) { candidates.append(loaded) }
        }
        let item = ScopeFacts(values: [:], publishTo: publishTo)
        let readers = candidates.filter {
            AccessPolicy.ticketScope(for: $0).evaluate(facts) && AccessPolicy.ticketItemScope(for: $0, area: .notes).evaluate(item)
        }
        let named = try await PeopleDirectory.visible(readers.map(\.id), to: principal, on: db)
        let parties: [(String, PrincipalKind)] = [("msp", .resource), ("coManaged", .coManagingUser), ("contact", .contact)]
        let byParty = Dictionary(grouping: readers, by: \.kind)
        return AudienceDTO(
            ticketId: ticketId.uuidString, publishTo: publishTo.rawValue,
            parties: parties.map { party, kind in
                let partyReaders = byParty[kind] ?? []
                let members = partyReaders.filter { named.contains($0.id) }.map { AudienceMemberDTO(id: $0.id.uuidString, name: $0.displayName) }.sorted {
                    $0.name < $1.name
                }
                return AudiencePartyDTO(party: party, count: partyReaders.count, members: members)
            })
    }

    /// The active co-managing users of an organization: its own and those associated with it
    /// (directly or through a team); one user may come twice.
    static func coManagingUsers(of organizationId: UUID, on db: any Database) async throws -> [CoManagingUser] {
        try await CoManagingUser.query(on: db).filter(\.$organizationId == organizationId).filter(\.$active == true).all()
            + associatedUsers(of: organizationId, on: db)
    }

    private static func associatedUsers(of organizationId: UUID, on db: any Database) async throws -> [CoManagingUser] {
        let associations = try await CoManagedAssociation.query(on: db).filter(\.$organizationId == organizationId).all()
        var userIds = Set(associations.compactMap(\.userId))
        let teamIds = associations.compactMap(\.teamId)
        if !teamIds.isEmpty {
            userIds.formUnion(try await CoManagingTeamMember.query(on: db).filter(\.$teamId ~~ teamIds).all().map(\.userId))
        }
        guard !userIds.isEmpty else { return [] }
        return try await CoManagingUser.query(on: db).filter(\.$id ~~ Array(userIds)).filter(\.$active == true).all()
    }
}
