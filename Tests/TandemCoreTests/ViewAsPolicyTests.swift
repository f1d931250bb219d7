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
