import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/co-managing-users/new`: the wizard of SPEC §2 without JavaScript. Each step posts every answer so far
/// (earlier steps as hidden fields) except the password, which stays server-side in the session's
/// `CoManagingUserDraft`; the details step asks the service for a dry run, whose license question
/// becomes the confirmation step (asked also before the departments step, so the details' problems show on their own step).
enum NewCoManagingUserPage {
    static let view = "admin/co-managing-user-new"

    enum Step: String, CaseIterable, Sendable {
        case organization, contact, details, departments, confirm

        var label: String {
            switch self {
            case .organization: "Organization"
            case .contact: "Contact"
            case .details: "Credentials and access"
            case .departments: "Departments"
            case .confirm: "License"
            }
        }
    }

    struct Form: Codable, Sendable {
        var go: String?
        var organizationId: String?
        var contactMode: String?
        var contactId: String?
        var firstName: String?
        var lastName: String?
        var email: String?
        var siteId: String?
        var username: String?
        var password: String?
        var securityLevelId: String?
        var queueIds: [String]?
        var roleIds: [String]?
        var departmentIds: [String]?
        var confirmLicense: String?

        var isNewContact: Bool { contactMode == "new" }
    }

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var tabs: [AdminPages.Tab]
        var step: String
        var steps: [StepMark]
        var hidden: [Hidden]
        var form: Form
        var organizationName: String?
        var organizationOptions: [SelectOption]
        var contactOptions: [SelectOption]
        var siteOptions: [SelectOption]
        var levelOptions: [SelectOption]
        var queues: AdminPages.Choices
        var roles: AdminPages.Choices
        /// The departments the user may join: the MSP's and their organization's co-managed ones.
        var departments: AdminPages.Choices
        var tenantDomain: String
        var summary: [Fact]
        var licenses: Int
        var licensesAfter: Int
        /// A password typed earlier is kept server-side; the details step may leave it blank.
        var passwordKept: Bool
        var feedback: FormFeedback?
    }

    struct StepMark: Encodable, Sendable {
        var number: Int
        var label: String
        var current: Bool
        var done: Bool
    }

    struct Hidden: Encodable, Sendable {
        var name: String
        var value: String
    }

    struct Fact: Encodable, Sendable {
        var label: String
        var value: String
    }
}
