import Foundation

/// What about a principal's login changes (SPEC §1: credentials are their own concern).
public enum CredentialChange: String, Sendable, CaseIterable {
    /// A password: a resource's, a co-managing user's, or a contact's portal login.
    case password
    /// The name someone logs in with: a username, or the email of a contact with a portal login.
    case loginName
    /// Pausing or resetting two-factor authentication.
    case twoFactor

    var label: String {
        switch self {
        case .password: "setting or resetting a password or portal login"
        case .loginName: "changing the username or email someone logs in with"
        case .twoFactor: "changing two-factor authentication"
        }
    }
}

extension AccessPolicy {
    /// Setting or resetting someone else's credentials needs `manageCredentials` (administrators), whatever
    /// else the caller may edit. The target is already known to be visible: hidden ones answered 404 before.
    public static func authorizeCredentialChange(_ principal: Principal, _ change: CredentialChange) throws(TandemError) {
        guard principal.kind == .resource, principal.permissions.has(.manageCredentials) else {
            throw .forbidden("\(change.label) needs the manageCredentials permission (administrators)")
        }
    }

    /// Two-factor authentication is mandatory for co-managing users (SPEC §2), and only theirs is enrolled.
    public static func requiresTwoFactor(_ kind: PrincipalKind) -> Bool {
        kind == .coManagingUser
    }

    /// A contact bound to a co-managing user logs in only as that user, with its two-factor step (SPEC §1).
    public static func refusePortalLogin(forCoManagingContact bound: Bool) throws(TandemError) {
        if bound {
            throw .invalid(
                "password", "this contact is a co-managing user and logs in only as that user (with two-factor authentication); it cannot have a portal login")
        }
    }
}

extension AccessPolicy {
    /// A principal grants only what it holds: it can neither make or edit a level to hold an
    /// administrative permission it lacks, nor give someone such a level. Otherwise managing levels
    /// would be a way to `manageCredentials` for anyone who may configure them.
    public static func authorizeGrant(_ principal: Principal, _ permissions: Permissions) throws(TandemError) {
        let missing = permissions.admin.subtracting(principal.permissions.admin)
        guard missing.isEmpty else {
            throw .forbidden("you cannot grant administrative permissions you do not hold (\(missing.sorted().map(\.rawValue).joined(separator: ", ")))")
        }
    }
}
