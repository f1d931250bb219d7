import Foundation
import TandemCore
import Testing

/// "View as": who may use it, and that a view-as request only reads.
@Suite struct ViewAsPolicyTests {
    func principal(_ kind: PrincipalKind, _ permissions: Permissions, restrictedTo: Set<UUID>? = nil) -> Principal {
        Principal(id: UUID(), kind: kind, displayName: "P", securityLevelId: UUID(), permissions: permissions, clientRestrictions: restrictedTo)
    }

    @Test func onlyUnrestrictedAdministratorsViewAsOthers() throws {
        let admin = principal(.resource, SystemSecurityLevel.administrator.permissions)
        let restrictedAdmin = principal(.resource, SystemSecurityLevel.administrator.permissions, restrictedTo: [UUID()])
        let technician = principal(.resource, SystemSecurityLevel.technician.permissions)
        let dispatcher = principal(.resource, SystemSecurityLevel.dispatcher.permissions)
        var almostAdmin = SystemSecurityLevel.administrator.permissions
        almostAdmin.admin.remove(.manageUsers)
        let coManaging = principal(.coManagingUser, SystemSecurityLevel.coManagedHelpDesk.permissions)
        var coManagingWithAdminBits = coManaging
        coManagingWithAdminBits.permissions = SystemSecurityLevel.administrator.permissions
        let contact = principal(.contact, .nothing)

        for viewed in [contact, coManaging, technician, admin] {
            #expect(throws: Never.self) { try AccessPolicy.authorizeViewAs(admin, as: viewed) }
        }
        #expect(AccessPolicy.mayViewAs(admin))
        let refusal = TandemError.forbidden("view as is for administrators without client restrictions")
        // A restricted administrator would reach, through a contact or a co-managing user elsewhere,
        // organizations outside its restrictions; no one else may use it at all.
        for viewer in [restrictedAdmin, technician, dispatcher, principal(.resource, almostAdmin), coManaging, coManagingWithAdminBits, contact] {
            #expect(!AccessPolicy.mayViewAs(viewer))
            #expect(throws: refusal) { try AccessPolicy.authorizeViewAs(viewer, as: contact) }
            #expect(throws: refusal) { try AccessPolicy.authorizeViewAs(viewer, as: admin) }
        }
    }

    @Test func viewAsRequestsOnlyRead() throws {
        for method in ["GET", "HEAD"] {
            #expect(throws: Never.self) { try AccessPolicy.authorizeViewAsRequest(method: method, readOnlyPage: true, endsView: false) }
            #expect(throws: TandemError.self) { try AccessPolicy.authorizeViewAsRequest(method: method, readOnlyPage: false, endsView: false) }
        }
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            #expect(throws: TandemError.self) { try AccessPolicy.authorizeViewAsRequest(method: method, readOnlyPage: true, endsView: false) }
            #expect(throws: TandemError.self) { try AccessPolicy.authorizeViewAsRequest(method: method, readOnlyPage: false, endsView: false) }
        }
        // Ending the view (or the session) is the one form it posts.
        #expect(throws: Never.self) { try AccessPolicy.authorizeViewAsRequest(method: "POST", readOnlyPage: false, endsView: true) }
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeViewAsRequest(method: "DELETE", readOnlyPage: false, endsView: true) }
    }
}

/// "Explain access" for organizations, sites, contacts and client profiles: the answer is the scope's, with reasons.
@Suite struct ExplainOrganizationRowTests {
    let northwind = UUID(), contoso = UUID()

    func row(_ organization: UUID, id: UUID = UUID()) -> ScopeFacts {
        ScopeFacts(values: [.id: id, .organization: organization, .site: nil])
    }

    @Test func explanationsAgreeWithTheScopesAndSayWhy() {
        let restricted = Principal(
            id: UUID(), kind: .resource, displayName: "Rick", securityLevelId: UUID(), permissions: SystemSecurityLevel.technician.permissions,
            clientRestrictions: [northwind])
        let nina = Principal(
            id: UUID(), kind: .coManagingUser, displayName: "Nina", securityLevelId: UUID(), permissions: SystemSecurityLevel.coManagedHelpDesk.permissions,
            organizationId: northwind, associatedOrganizationIds: [northwind, contoso], coManagementEnabled: true, coManagedOrganizationIds: [northwind])
        let aliceId = UUID()
        let alice = Principal(
            id: aliceId, kind: .contact, displayName: "Alice", securityLevelId: nil, permissions: .nothing, organizationId: northwind, contactId: aliceId)
        for principal in [restricted, nina, alice] {
            for area in [Area.organizations, .sites, .contacts] {
                for facts in [row(northwind), row(contoso), row(northwind, id: aliceId)] {
                    let explanation = AccessPolicy.explainOrganizationRow(principal, area: area, facts)
                    #expect(explanation.allowed == AccessPolicy.organizationScope(for: principal, area: area, .view).evaluate(facts))
                    #expect(!explanation.reasons.isEmpty)
                }
            }
        }
        let rickElsewhere = AccessPolicy.explainOrganizationRow(restricted, area: .organizations, row(contoso))
        #expect(!rickElsewhere.allowed && rickElsewhere.reasons.contains("The resource is limited to other organizations (client restrictions)."))
        let ninaContoso = AccessPolicy.explainOrganizationRow(nina, area: .sites, row(contoso))
        #expect(!ninaContoso.allowed && ninaContoso.reasons.contains("Co-management is off for the site's organization."))
        let ninaNorthwind = AccessPolicy.explainOrganizationRow(nina, area: .contacts, row(northwind))
        #expect(ninaNorthwind.allowed && ninaNorthwind.reasons.contains("The user is associated with the contact's organization."))
        #expect(AccessPolicy.explainOrganizationRow(alice, area: .contacts, row(northwind, id: aliceId)).allowed)
        let otherContact = AccessPolicy.explainOrganizationRow(alice, area: .contacts, row(northwind))
        #expect(!otherContact.allowed && otherContact.reasons == ["A contact sees only their own record, never other contacts."])
    }
}
