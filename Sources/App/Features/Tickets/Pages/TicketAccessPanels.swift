import Fluent
import Foundation
import TandemCore
import Vapor

/// The ticket page's access panels (SPEC §13): the audience preview beside the note form, and for admins
/// "Explain access". Both ask `TicketAccessAPI`, so the page and the API give the same answers.
enum TicketAccessPanels {
    static let maxNames = 8
    static let maxContacts = 200

    // MARK: Audience preview

    struct Audience: Encodable, Sendable {
        var rows: [AudienceRow]
    }

    /// Who would see an item with one publish-to value.
    struct AudienceRow: Encodable, Sendable {
        var publishTo: String
        var publishKey: String
        var selected: Bool
        var parties: [PartyCell]
    }

    struct PartyCell: Encodable, Sendable {
        var party: String
        var count: Int
        var names: String
    }

    /// One row per publish-to value the note form offers. The API names only the people the viewer may see
    /// (`AccessPolicy.peopleScope`); the others are counted.
    static func audience(ticketId: UUID, options: [SelectOption], viewer: Principal, on db: any Database) async throws -> Audience {
        var rows: [AudienceRow] = []
        for option in options {
            guard let publishTo = PublishTo(rawValue: option.value) else { continue }
            let audience = try await TicketAccessAPI.audience(ticketId: ticketId, publishTo: publishTo, by: viewer, on: db)
            var cells: [PartyCell] = []
            for party in audience.parties {
                let visible = party.members.map(\.name)
                let hidden = party.count - visible.count
                var names = visible.prefix(maxNames).joined(separator: ", ")
                let more = visible.count - min(visible.count, maxNames) + hidden
                if more > 0 { names += names.isEmpty ? "\(more) not shown to you" : " and \(more) more" }
                cells.append(PartyCell(party: partyLabel(party.party), count: party.count, names: names))
            }
            rows.append(
                AudienceRow(publishTo: PageFormat.publishTo(publishTo.rawValue), publishKey: publishTo.rawValue, selected: option.selected, parties: cells))
        }
        return Audience(rows: rows)
    }

    static func partyLabel(_ party: String) -> String {
        switch party {
        case "msp": "MSP"
        case "coManaged": "Co-managed"
        case "contact": "Contacts"
        default: party
        }
    }

    // MARK: Explain access

    struct Explain: Encodable, Sendable {
        var groups: [Group]
        var result: Result?
        var feedback: FormFeedback?
    }

    struct Group: Encodable, Sendable {
        var label: String
        var options: [SelectOption]
    }

    struct Result: Encodable, Sendable {
        var name: String
        var kind: String
        var allowed: Bool
        var reasons: [String]
    }

    /// For admins only (the API's rule); nil hides the panel.
    static func explain(ticket: TicketDTO, subject: String?, viewer: Principal, on db: any Database) async throws -> Explain? {
        guard (try? AccessPolicy.authorizeAdmin(viewer, .manageUsers)) != nil, let ticketId = UUID(uuidString: ticket.id),
            let organizationId = UUID(uuidString: ticket.organizationId)
        else { return nil }
        let chosen = subject.flatMap { $0.isEmpty ? nil : $0 }

        let resources = try await Resource.query(on: db).filter(\.$active == true).sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all()
        let users = try await CoManagingUser.query(on: db).filter(\.$active == true).filter(\.$erased == false)
            .filter(AccessPolicy.peopleScope(for: viewer, .coManagingUser), on: CoManagingUser.scopeTable).sort(\.$username).limit(PageOptions.maxOptions).all()
        let userNames = try await AdminNames.users(users.compactMap(\.id), on: db)
        let homes = try await AdminNames.organizations(users.map(\.organizationId), on: db)
        let contacts = try await Contact.query(on: db).filter(\.$organizationId == organizationId).sort(\.$lastName).sort(\.$firstName).limit(maxContacts).all()
        let organization = try await Organization.find(organizationId, on: db)?.name ?? "the organization"
        func option(_ id: UUID?, _ label: String) -> SelectOption {
            SelectOption(value: id!.uuidString, label: label, selected: PageOptions.sameId(id, chosen ?? ""))
        }
        let groups = [
            Group(label: "MSP resources", options: resources.map { option($0.id, "\($0.fullName) (\($0.username))") }),
            Group(
                label: "Co-managing users",
                options: users.map { option($0.id, "\(userNames[$0.id!]?.label ?? $0.username), \(homes[$0.organizationId] ?? "")") }),
            Group(label: "Contacts of \(organization)", options: contacts.map { option($0.id, $0.fullName + ($0.email.map { " (\($0))" } ?? "")) }),
        ].filter { !$0.options.isEmpty }

        var explain = Explain(groups: groups, result: nil, feedback: nil)
        guard let chosen else { return explain }
        guard let subjectId = UUID(uuidString: chosen) else {
            explain.feedback = FormFeedback(message: "Choose someone from the list.")
            return explain
        }
        do {
            let answer = try await TicketAccessAPI.explain(ticketId: ticketId, subjectId: subjectId, by: viewer, on: db)
            explain.result = Result(name: answer.principalName, kind: kindLabel(answer.principalKind), allowed: answer.allowed, reasons: answer.reasons)
        } catch TandemError.notFound {
            explain.feedback = FormFeedback(message: "That person was not found, or is no longer active.")
        }
        return explain
    }

    static func kindLabel(_ kind: String) -> String {
        PrincipalKind(rawValue: kind).map { PeopleDirectory.kindName($0) } ?? kind
    }
}
