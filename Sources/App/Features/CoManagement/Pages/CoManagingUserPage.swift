import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/co-managing-users/:id`: tabs for general details, security (level and two-factor pauses),
/// queues, roles and departments, and status (deactivate, reactivate, erase).
enum CoManagingUserPage {
    static let view = "admin/co-managing-user"
    static let sections = [("general", "General"), ("security", "Security"), ("access", "Queues, roles & departments"), ("status", "Deactivate or erase")]

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var sections: [AdminPages.Tab]
        var section: String
        var id: String
        var name: String
        var username: String
        var loginName: String
        var organization: String
        var email: String
        var teams: String
        var departmentNames: String
        var status: String
        var statusKey: String
        var active: Bool
        var erased: Bool
        var twoFactor: String
        var twoFactorEnrolled: Bool
        var customerGroupOverride: Bool
        /// The organization's group, and the other organizations in it the viewer may see.
        var groupName: String?
        var groupOrganizations: String
        var general: General
        var locationOptions: [SelectOption]
        var levelOptions: [SelectOption]
        var queues: AdminPages.Choices
        var roles: AdminPages.Choices
        var departments: AdminPages.Choices
        var licenses: Int
        var licensesAfter: Int
        var notice: String?
        var feedback: FormFeedback?
    }

    struct General: Codable, Sendable {
        var username: String?
        var password: String?
        var internalLocationId: String?
        var timesheetStart: String?
    }

    struct SecurityForm: Decodable, Sendable { var securityLevelId: String? }
    struct PauseForm: Decodable, Sendable { var `for`: String? }
    struct GroupOverrideForm: Decodable, Sendable { var customerGroupOverride: String? }
    struct AccessForm: Decodable, Sendable { var queueIds: [String]?; var roleIds: [String]?; var departmentIds: [String]? }
    struct StatusForm: Decodable, Sendable { var active: String?; var confirmLicense: String?; var confirm: String? }

    static let notices = [
        "created": "The co-managing user was created. They set up two-factor authentication at their first login.",
        "saved": "Your changes were saved.",
        "nextLogin": "Two-factor authentication is paused for the next login only.",
        "24h": "Two-factor authentication is paused for 24 hours.",
        "deactivated": "The co-managing user was deactivated; their sessions ended and the license is free.",
        "activated": "The co-managing user is active again.",
    ]

    static func status(_ user: CoManagingUser) -> (String, String) {
        user.erased ? ("Erased", "erased") : user.active ? ("Active", "active") : ("Inactive", "inactive")
    }

    static func twoFactorState(_ user: CoManagingUser, zone: PageZone, now: Date = Date()) -> String {
        if user.erased { return "—" }
        if user.totpPauseNextLogin { return "Paused for the next login" }
        if let until = user.totpPausedUntil, until > now { return "Paused until \(PageFormat.date(until, in: zone))" }
        return user.totpConfirmed ? "Set up" : "Not set up yet (asked at the first login)"
    }
}
