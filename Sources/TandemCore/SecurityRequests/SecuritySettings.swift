import Foundation

/// One category's settings at one site: up to two approvers in order or "no approval needed",
/// whether to authenticate the caller and the approver, and for account categories the templates.
public struct SecurityCategorySettings: Codable, Sendable, Equatable {
    public var noApprovalNeeded: Bool
    public var approvers: [SecurityApprover]
    public var authenticateCaller: Bool
    public var authenticateApprover: Bool
    public var templates: AccountTemplates?

    public static let maxApprovers = 2

    public init(
        noApprovalNeeded: Bool = false, approvers: [SecurityApprover] = [], authenticateCaller: Bool = false, authenticateApprover: Bool = false,
        templates: AccountTemplates? = nil
    ) {
        self.noApprovalNeeded = noApprovalNeeded
        self.approvers = approvers
        self.authenticateCaller = authenticateCaller
        self.authenticateApprover = authenticateApprover
        self.templates = templates
    }

    /// Fields left out are off (or empty): a body need only say what it turns on.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        noApprovalNeeded = try container.decodeIfPresent(Bool.self, forKey: .noApprovalNeeded) ?? false
        approvers = try container.decodeIfPresent([SecurityApprover].self, forKey: .approvers) ?? []
        authenticateCaller = try container.decodeIfPresent(Bool.self, forKey: .authenticateCaller) ?? false
        authenticateApprover = try container.decodeIfPresent(Bool.self, forKey: .authenticateApprover) ?? false
        templates = try container.decodeIfPresent(AccountTemplates.self, forKey: .templates)
    }

    /// What a site that configured nothing gets: approval needed, nobody named, so the MSP decides.
    public static let unset = SecurityCategorySettings()

    /// The problems of these settings for `category`, each with its field (prefixed by `field`).
    public func problems(for category: SecurityCategory, field: String) -> [FieldError] {
        var problems: [FieldError] = []
        if approvers.count > Self.maxApprovers {
            problems.append(FieldError("\(field).approvers", "at most \(Self.maxApprovers) approvers, asked in order"))
        }
        if Set(approvers).count != approvers.count { problems.append(FieldError("\(field).approvers", "an approver is listed twice")) }
        if noApprovalNeeded && !approvers.isEmpty {
            problems.append(FieldError("\(field).approvers", "\"no approval needed\" names no approvers"))
        }
        if noApprovalNeeded && category == .tier4 {
            problems.append(FieldError("\(field).noApprovalNeeded", "Tier 4 changes always need the MSP's approval"))
        }
        if let templates {
            if category.hasTemplates {
                problems += templates.problems(field: "\(field).templates")
            } else {
                problems.append(FieldError("\(field).templates", "only new user and new mail accounts have templates"))
            }
        }
        return problems
    }
}

/// A site's settings for every category; a category left out is `SecurityCategorySettings.unset`.
public struct SiteSecuritySettings: Codable, Sendable, Equatable {
    public var categories: [SecurityCategory: SecurityCategorySettings]

    public init(_ categories: [SecurityCategory: SecurityCategorySettings] = [:]) {
        self.categories = categories
    }

    public subscript(category: SecurityCategory) -> SecurityCategorySettings { categories[category] ?? .unset }

    public func validate() throws(TandemError) {
        let problems = SecurityCategory.allCases.flatMap { category in
            categories[category].map { $0.problems(for: category, field: category.rawValue) } ?? []
        }
        if !problems.isEmpty { throw .validation(problems) }
    }

    /// Whether every category the site decides has been decided: "no approval needed" or at least one
    /// approver (the activation checklist's item). Tier 4 is always the MSP's, so it needs nothing.
    public var isConfigured: Bool {
        SecurityCategory.allCases.filter { $0 != .tier4 }.allSatisfy { category in
            categories[category].map { $0.noApprovalNeeded || !$0.approvers.isEmpty } ?? false
        }
    }

    /// One line per category for the caller-identification answer and the technician: who approves, who is authenticated.
    public var summary: [SecurityCategorySummary] {
        SecurityCategory.allCases.map { category in
            let settings = self[category]
            let approval: SecurityCategorySummary.Approval =
                category == .tier4 ? .msp : settings.noApprovalNeeded ? .none : settings.approvers.contains { !$0.isMSP } ? .client : .msp
            return SecurityCategorySummary(
                category: category, approval: approval, approvers: settings.noApprovalNeeded ? 0 : settings.approvers.count,
                authenticateCaller: settings.authenticateCaller, authenticateApprover: settings.authenticateApprover)
        }
    }
}

extension SiteSecuritySettings {
    /// The policy in a few sentences, for the technician who answers a call (caller identification):
    /// which categories need no approval, which the site's approvers decide, which the MSP, and
    /// whom to authenticate.
    public var sentence: String {
        let summary = self.summary
        func titles(_ approval: SecurityCategorySummary.Approval) -> String? {
            let names = summary.filter { $0.approval == approval }.map(\.category.title)
            return names.isEmpty ? nil : names.joined(separator: ", ")
        }
        var parts: [String] = []
        if let none = titles(.none) { parts.append("No approval needed: \(none).") }
        if let client = titles(.client) { parts.append("The site's approvers decide: \(client).") }
        if let msp = titles(.msp) { parts.append("The MSP approves: \(msp).") }
        let callers = summary.filter(\.authenticateCaller).map(\.category.title)
        if !callers.isEmpty { parts.append("Authenticate the caller by SMS code for: \(callers.joined(separator: ", ")).") }
        return parts.joined(separator: " ")
    }
}

public struct SecurityCategorySummary: Codable, Sendable, Equatable {
    public enum Approval: String, Codable, Sendable {
        /// No approval needed.
        case none
        /// The site's own approvers are asked first.
        case client
        /// The MSP approves (no client approver listed, or Tier 4).
        case msp
    }

    public var category: SecurityCategory
    public var approval: Approval
    public var approvers: Int
    public var authenticateCaller: Bool
    public var authenticateApprover: Bool
}
