import Fluent
import TandemCore

/// The Administrator system level gains `receiveMail`: posting raw mail for intake. A mail server's
/// token belongs to a principal of a level that holds it (custom levels keep what they had).
struct AddReceiveMailPermission: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await AddManageCredentialsPermission.setAdministrator(SystemSecurityLevel.administrator.permissions, on: database)
    }

    func revert(on database: any Database) async throws {
        var permissions = SystemSecurityLevel.administrator.permissions
        permissions.admin.remove(.receiveMail)
        try await AddManageCredentialsPermission.setAdministrator(permissions, on: database)
    }
}
