import Foundation

/// The kinds of security-related request a site configures (SPEC §8, ConnectWise's "Security-Related
/// Requests" and "Help Desk Security Approvals").
public enum SecurityCategory: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable {
    case newUserAccount, newMailAccount, passwordReset, filePermissionChange, softwareInstallation, agentInstallation, tier4

    public var title: String {
        switch self {
        case .newUserAccount: "New user account"
        case .newMailAccount: "New mail account"
        case .passwordReset: "Password reset"
        case .filePermissionChange: "File/folder permission change"
        case .softwareInstallation: "Software installation"
        case .agentInstallation: "Agent installation"
        case .tier4: "Tier 4"
        }
    }

    /// Whether the category's settings carry account templates (username and email formats, default groups).
    public var hasTemplates: Bool { self == .newUserAccount || self == .newMailAccount }
}

/// The changes that always need the MSP's approval, whatever the site's settings say.
public enum Tier4Change: String, Codable, Sendable, CaseIterable {
    case domainChange, networkChange, newRemoteAccess, siteMFA, serverSoftware, adminPassword, firewallListing

    public var title: String {
        switch self {
        case .domainChange: "Changes to the domain (including adding or removing computers)"
        case .networkChange: "Changes to the network (IP ranges, DNS records, time servers)"
        case .newRemoteAccess: "New VPN access, new RDP access from outside the domain"
        case .siteMFA: "Adding, removing or changing MFA at the site or tenant level"
        case .serverSoftware: "Software installation, removal or update on a server"
        case .adminPassword: "Changes to an administrator account's password"
        case .firewallListing: "Allow or deny listing on a firewall or other device"
        }
    }
}

/// Whose password a password reset is for: only a caller's own password can go without approval.
public enum PasswordResetTarget: String, Codable, Sendable, CaseIterable {
    case own, anotherUser, shared, admin
}

/// An approver of a site's category, in the order they are asked.
public struct SecurityApprover: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// One of the site's contacts.
        case contact
        /// A group contact: whoever of the group answers.
        case groupContact
        /// An MSP resource (a "partner approver").
        case resource
    }

    public var kind: Kind
    public var id: UUID

    public init(_ kind: Kind, _ id: UUID) {
        self.kind = kind
        self.id = id
    }

    public var isMSP: Bool { kind == .resource }
}

extension Sequence<SecurityApprover> {
    /// Whether the list names this MSP resource as an approver (who may then decide for the MSP).
    public func listsMSPApprover(_ resourceId: UUID) -> Bool { contains(SecurityApprover(.resource, resourceId)) }
}
