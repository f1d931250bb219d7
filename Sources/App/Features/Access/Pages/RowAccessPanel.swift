import Fluent
import Foundation
import TandemCore
import Vapor

/// "Explain access" on the organization and site pages (SPEC §13): for admins, whether a chosen person
/// can see the page's organization or site, and why. It asks `RowAccessAPI`, so the page and the API agree.
enum RowAccessPanel {
    struct Panel: Encodable, Sendable {
        /// The page the form comes back to.
        var action: String
        var what: String
        var groups: [TicketAccessPanels.Group]
        var result: TicketAccessPanels.Result?
        var feedback: FormFeedback?
    }

    /// Nil (no panel) for those who may not ask; `subject` is the `explain` query value.
    static func explain(area: Area, rowId: UUID, organizationId: UUID, action: String, subject: String?, viewer: Principal, on db: any Database)
        async throws -> Panel?
    {
        guard (try? AccessPolicy.authorizeAdmin(viewer, .manageUsers)) != nil else { return nil }
        let chosen = subject.flatMap { $0.isEmpty ? nil : $0 }
        let resources = try await Resource.query(on: db).filter(\.$active == true).sort(\.$lastName).sort(\.$firstName).limit(PageOptions.maxOptions).all()
        let users = try await CoManagingUser.query(on: db).filter(\.$active == true).filter(\.$erased == false)
            .filter(AccessPolicy.peopleScope(for: viewer, .coManagingUser), on: CoManagingUser.scopeTable).sort(\.$username).limit(PageOptions.maxOptions)
            .all()
        let userNames = try await AdminNames.users(users.compactMap(\.id), on: db)
        let homes = try await AdminNames.organizations(users.map(\.organizationId), on: db)
        let contacts = try await Contact.query(on: db).filter(\.$organizationId == organizationId).sort(\.$lastName).sort(\.$firstName)
            .limit(TicketAccessPanels.maxContacts).all()
        let organization = try await Organization.find(organizationId, on: db)?.name ?? "the organization"
        func option(_ id: UUID?, _ label: String) -> SelectOption {
            SelectOption(value: id!.uuidString, label: label, selected: PageOptions.sameId(id, chosen ?? ""))
        }
        let groups = [
            TicketAccessPanels.Group(label: "MSP resources", options: resources.map { option($0.id, "\($0.fullName) (\($0.username))") }),
            TicketAccessPanels.Group(
                label: "Co-managing users",
                options: users.map { option($0.id, "\(userNames[$0.id!]?.label ?? $0.username), \(homes[$0.organizationId] ?? "")") }),
            TicketAccessPanels.Group(
                label: "Contacts of \(organization)", options: contacts.map { option($0.id, $0.fullName + ($0.email.map { " (\($0))" } ?? "")) }),
        ].filter { !$0.options.isEmpty }

        var panel = Panel(action: action, what: area.what, groups: groups, result: nil, feedback: nil)
        guard let chosen else { return panel }
        guard let subjectId = UUID(uuidString: chosen) else {
            panel.feedback = FormFeedback(message: "Choose someone from the list.")
            return panel
        }
        do {
            let answer = try await RowAccessAPI.explain(area: area, rowId: rowId, subjectId: subjectId, by: viewer, on: db)
            panel.result = TicketAccessPanels.Result(
                name: answer.principalName, kind: TicketAccessPanels.kindLabel(answer.principalKind), allowed: answer.allowed, reasons: answer.reasons)
        } catch TandemError.notFound {
            panel.feedback = FormFeedback(message: "That person was not found, or is no longer active.")
        }
        return panel
    }
}
