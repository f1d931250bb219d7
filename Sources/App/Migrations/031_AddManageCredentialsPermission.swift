import Fluent
import TandemCore

/// The Administrator system level gains `manageCredentials`: setting passwords, portal logins, login
/// names and two-factor state is its own permission (SPEC §1). Custom levels keep what they had.
struct AddManageCredentialsPermission: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await setAdministrator(SystemSecurityLevel.administrator.permissions, on: database)
    }

    func revert(on database: any Database) async throws {
        var permissions = SystemSecurityLevel.administrator.permissions
        permissions.admin.remove(.manageCredentials)
        try await setAdministrator(permissions, on: database)
    }

    private func setAdministrator(_ permissions: Permissions, on database: any Database) async throws {
        for level in try await SecurityLevel.query(on: database).filter(\.$systemKey == SystemSecurityLevel.administrator.rawValue).all() {
            level.permissions = permissions
            try await level.save(on: database)
        }
    }
}
