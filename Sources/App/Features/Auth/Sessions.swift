import Fluent
import Foundation
import TandemCore

/// Ending sessions and tokens when a principal's credentials change (SPEC §1): a password change,
/// a new login name, deactivation and erasure delete them (never just hide them, so re-activation
/// revives nothing).
enum Sessions {
    /// Deletes every session and token of `principalId` but `except` (the caller's own, on a self-service change).
    static func end(of principalId: UUID, except: UUID? = nil, on db: any Database) async throws {
        var tokens = APIToken.query(on: db).filter(\.$principalId == principalId)
        if let except { tokens = tokens.filter(\.$id != except) }
        try await tokens.delete()
    }

    /// A contact bound to a co-managing user logs in only as that user.
    static func isCoManagingContact(_ contactId: UUID, on db: any Database) async throws -> Bool {
        try await CoManagingUser.query(on: db).filter(\.$contactId == contactId).count() > 0
    }
}

extension PrincipalKind {
    /// The table whose rows stand for principals of this kind, as the audit log names them.
    var auditEntity: String {
        switch self {
        case .resource: Resource.schema
        case .coManagingUser: CoManagingUser.schema
        case .contact: Contact.schema
        }
    }
}
