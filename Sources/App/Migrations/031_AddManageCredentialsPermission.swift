import Fluent
import TandemCore

/// The Administrator system level gains `manageCredentials`: setting passwords, portal logins, login
/// names and two-factor state is its own permission (SPEC §1). Custom levels keep what they had.
struct AddManageCredentialsPermission: AsyncMigration {
    func prepare(on database: any Database) async throws {
        var permissions = SystemSecurityLevel.administrator.permissions
        // Permissions added by later migrations come with them.
        permissions.admin.remove(.receiveMail)
        try await Self.setAdministrator(permissions, on: database)
    }

    func revert(on database: any Database) async throws {
        var permissions = SystemSecurityLevel.administrator.permissions
        permissions.admin.subtract([.manageCredentials, .receiveMail])
        try await Self.setAdministrator(permissions, on: database)
    }

    /// The Administrator system level's stored permissions.
    static func setAdministrator(_ permissions: Permissions, on database: any Database) async throws {
        for level in try await SecurityLevel.query(on: database).filter(\.$systemKey == SystemSecurityLevel.administrator.rawValue).all() {
            level.permissions = permissions
            try await level.save(on: database)
        }
    }
}
