import Fluent
import Foundation
import TandemCore

/// `CoManagingUserFacts` over the database, for one principal: what the core co-managing user rules look up.
struct DatabaseCoManagingUserFacts: CoManagingUserFacts {
    var principal: Principal
    var db: any Database

    func organizationForNewUser(_ id: UUID) async throws -> CoManagedOrganizationFacts? {
        try await CoManagingUsers.organizationForNewUser(id, by: principal, on: db).map {
            CoManagedOrganizationFacts(name: $0.name, coManagementEnabled: $0.coManagementEnabled)
        }
    }

    func contact(_ id: UUID, organizationId: UUID) async throws -> WizardContactFacts? {
        guard let contact = try await Contact.find(id, on: db), contact.organizationId == organizationId else { return nil }
        let bound = try await CoManagingUser.query(on: db).filter(\.$contactId == id).count() > 0
        return WizardContactFacts(hasEmail: contact.email != nil, isCoManagingUser: bound)
    }

    func siteExists(_ id: UUID, organizationId: UUID) async throws -> Bool {
        try await Site.query(on: db).filter(\.$id == id).filter(\.$organizationId == organizationId).count() > 0
    }

    func activeLicenses() async throws -> Int {
        try await CoManagementService.licenseCount(on: db)
    }
}

extension CoManagingUserRules {
    /// `checkLicense`, refused as the API's and pages' `CoManagementError`.
    static func checkLicense(confirmed: Bool, by principal: Principal, on db: any Database) async throws {
        do {
            try await checkLicense(confirmed: confirmed, facts: DatabaseCoManagingUserFacts(principal: principal, db: db))
        } catch let refusal as LicenseConfirmationRequired {
            throw CoManagementError.licenseConfirmationRequired(currentLicenses: refusal.currentLicenses)
        }
    }
}
