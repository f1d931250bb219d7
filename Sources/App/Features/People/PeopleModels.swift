import Fluent
import Foundation
import TandemCore

final class SecurityLevel: Model, @unchecked Sendable {
    static let schema = "security_levels"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @OptionalField(key: "system_key") var systemKey: String?
    @Field(key: "co_managed") var coManaged: Bool
    @Field(key: "permissions") var permissionsJSON: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    var permissions: Permissions {
        get { JSONColumn.decode(permissionsJSON, default: .nothing) }
        set { permissionsJSON = JSONColumn.encode(newValue) }
    }

    var system: SystemSecurityLevel? { systemKey.flatMap(SystemSecurityLevel.init(rawValue:)) }
}

/// MSP staff.
final class Resource: Model, @unchecked Sendable {
    static let schema = "resources"

    @ID(key: .id) var id: UUID?
    @Field(key: "username") var username: String
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "first_name") var firstName: String
    @Field(key: "last_name") var lastName: String
    @OptionalField(key: "email") var email: String?
    @Field(key: "security_level_id") var securityLevelId: UUID
    /// False means "allow use of all customers"; true limits the resource to `resource_client_restrictions`.
    @Field(key: "client_restricted") var clientRestricted: Bool
    @Field(key: "active") var active: Bool
    /// An IANA time zone; nil: UTC. The days of their timesheet weeks.
    @OptionalField(key: "time_zone") var timeZone: String?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var fullName: String { "\(firstName) \(lastName)" }
}

final class ResourceClientRestriction: Model, @unchecked Sendable {
    static let schema = "resource_client_restrictions"

    @ID(key: .id) var id: UUID?
    @Field(key: "resource_id") var resourceId: UUID
    @Field(key: "organization_id") var organizationId: UUID

    init() {}

    init(resourceId: UUID, organizationId: UUID) {
        self.id = .v7()
        self.resourceId = resourceId
        self.organizationId = organizationId
    }
}
