import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

struct CoManagementDTO: Content {
    var enabled: Bool
    var coManagingUsersCannotReassign: Bool
}

struct CoManagementInput: Decodable, Sendable {
    var enabled: Patch<Bool> = .absent
    var coManagingUsersCannotReassign: Patch<Bool> = .absent
}

struct BlockingUserDTO: Content, Equatable {
    var id: String
    var username: String
    var organizationId: String
}

struct ImpactTicketDTO: Content, Equatable {
    var id: String
    var number: Int
    var title: String
    var assigneeIds: [String]
}

struct ImpactAssociationDTO: Content, Equatable {
    var organizationId: String
    var coManagingUserId: String?
    var coManagingTeamId: String?
}

struct ImpactRuleDTO: Content, Equatable {
    var id: String
    var name: String
}

struct OrganizationCoManagementDTO: Content {
    var organizationId: String
    var enabled: Bool
    var coManagingUserIds: [String]
    var coManagingTeamIds: [String]
}

struct OrganizationCoManagementInput: Decodable, Sendable {
    var enabled: Patch<Bool> = .absent
    var coManagingUserIds: Patch<[String]> = .absent
    var coManagingTeamIds: Patch<[String]> = .absent
}

struct CoManagingUserDTO: Content {
    var id: String
    var contactId: String
    var organizationId: String
    var username: String
    var securityLevelId: String
    var active: Bool
    var queueIds: [String]
    var roleIds: [String]
    var teamIds: [String]
    /// Departments the caller may see (`AccessPolicy.departmentScope`).
    var departmentIds: [String]
    var internalLocationId: String?
    var timesheetStart: String?
    var totpEnrolled: Bool
    var erased: Bool
    /// On: the user sees the co-managing users of their organization's group; off: of their own organization only.
    var customerGroupOverride: Bool
}

struct NewContactInput: Decodable, Sendable {
    var firstName: String?
    var lastName: String?
    var email: String?
    var siteId: String?
    var phones: [PhoneInput]?
}

struct CoManagingUserInput: Decodable, Sendable {
    var organizationId: Patch<String> = .absent
    /// An existing contact, or `contact` to create one in the same transaction.
    var contactId: Patch<String> = .absent
    var contact: Patch<NewContactInput> = .absent
    var username: Patch<String> = .absent
    var password: Patch<String> = .absent
    var securityLevelId: Patch<String> = .absent
    var active: Patch<Bool> = .absent
    var queueIds: Patch<[String]> = .absent
    var roleIds: Patch<[String]> = .absent
    /// The MSP's departments and co-managed ones of the user's associated organizations; replaces those the caller may see.
    var departmentIds: Patch<[String]> = .absent
    var internalLocationId: Patch<String> = .absent
    var timesheetStart: Patch<String> = .absent
    var customerGroupOverride: Patch<Bool> = .absent
    /// Adding a billable license needs this set to true.
    var confirmLicense: Patch<Bool> = .absent
}

struct CoManagingTeamDTO: Content {
    var id: String
    var name: String
    var memberIds: [String]
}

struct CoManagingTeamInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var memberIds: Patch<[String]> = .absent
}

struct TOTPPauseInput: Decodable, Sendable {
    var `for`: String
}

struct TOTPEnrolmentDTO: Content {
    var secret: String
    var otpauthUri: String
}

struct TOTPConfirmInput: Decodable, Sendable {
    var code: String
}

struct LicensesDTO: Content {
    var coManagedLicenses: Int
}

struct SavedFilterDTO: Content {
    var id: String
    var ownerId: String
    var name: String
    var query: String
    var shared: Bool

    init(_ filter: SavedFilter) {
        id = filter.id!.uuidString
        ownerId = filter.ownerId.uuidString
        name = filter.name
        query = filter.query
        shared = filter.shared
    }
}

struct SavedFilterInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var query: Patch<String> = .absent
    var shared: Patch<Bool> = .absent
}
