import Fluent
import Foundation
import TandemCore
import Vapor

struct SecurityLevelDTO: Content {
    var id: String
    var name: String
    var systemKey: String?
    var coManaged: Bool
    var permissions: Permissions

    init(_ level: SecurityLevel) {
        id = level.id!.uuidString
        name = level.name
        systemKey = level.systemKey
        coManaged = level.coManaged
        permissions = level.permissions
    }
}

struct SecurityLevelInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    /// Custom levels are made by copying: the level whose permissions to start from.
    var copyOf: Patch<String> = .absent
    var coManaged: Patch<Bool> = .absent
    var permissions: Patch<Permissions> = .absent
}

struct ResourceDTO: Content {
    var id: String
    var username: String
    var firstName: String
    var lastName: String
    var email: String?
    var securityLevelId: String
    var clientRestrictions: [String]?
    var queueIds: [String]
    var active: Bool
    /// The IANA time zone of their timesheet days; null: UTC.
    var timeZone: String?

    /// `clientRestrictions` is written as null for unrestricted resources (Appendix A), not left out.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(username, forKey: .username)
        try c.encode(firstName, forKey: .firstName)
        try c.encode(lastName, forKey: .lastName)
        try c.encode(email, forKey: .email)
        try c.encode(securityLevelId, forKey: .securityLevelId)
        try c.encode(clientRestrictions, forKey: .clientRestrictions)
        try c.encode(queueIds, forKey: .queueIds)
        try c.encode(active, forKey: .active)
        try c.encode(timeZone, forKey: .timeZone)
    }

    init(_ resource: Resource, restrictions: [UUID], queueIds: [UUID]) {
        id = resource.id!.uuidString
        username = resource.username
        firstName = resource.firstName
        lastName = resource.lastName
        email = resource.email
        securityLevelId = resource.securityLevelId.uuidString
        clientRestrictions = resource.clientRestricted ? restrictions.map(\.uuidString).sorted() : nil
        self.queueIds = queueIds.map(\.uuidString).sorted()
        active = resource.active
        timeZone = resource.timeZone
    }
}

struct ResourceInput: Decodable, Sendable {
    var username: Patch<String> = .absent
    var password: Patch<String> = .absent
    var firstName: Patch<String> = .absent
    var lastName: Patch<String> = .absent
    var email: Patch<String> = .absent
    var securityLevelId: Patch<String> = .absent
    var clientRestrictions: Patch<[String]> = .absent
    var queueIds: Patch<[String]> = .absent
    /// The teams it is a member of (write only: membership is the team's, read it on `/teams`).
    var teamIds: Patch<[String]> = .absent
    var active: Patch<Bool> = .absent
    /// An IANA time zone (`Europe/Berlin`); null: UTC.
    var timeZone: Patch<String> = .absent
}
