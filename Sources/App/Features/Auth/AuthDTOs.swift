import Fluent
import Foundation
import TandemCore
import Vapor

struct LoginInput: Decodable, Sendable {
    var username: String
    var password: String
    var totp: String?
}

struct PrincipalDTO: Content {
    var id: String
    var kind: String
    var displayName: String
    var securityLevelId: String?
    var permissions: Permissions
    var clientRestrictions: [String]?
    var organizationId: String?

    init(_ principal: Principal) {
        id = principal.id.uuidString
        kind = principal.kind.rawValue
        displayName = principal.displayName
        securityLevelId = principal.securityLevelId?.uuidString
        permissions = principal.permissions
        clientRestrictions = principal.clientRestrictions.map { $0.map(\.uuidString).sorted() }
        organizationId = principal.organizationId?.uuidString
    }
}

struct TokenDTO: Content {
    var token: String
    var expiresAt: Date
    var principal: PrincipalDTO
}

struct PersonalTokenInput: Decodable, Sendable {
    var name: String
    var expiresInDays: Int?
}

struct PersonalTokenDTO: Content {
    var id: String
    var name: String?
    var token: String?
    var expiresAt: Date
    var createdAt: Date?
}

struct PasswordChangeInput: Decodable, Sendable {
    var currentPassword: String?
    var newPassword: String?
}
