import Fluent
import Foundation
import TandemCore
import Vapor

struct QueueDTO: Content {
    var id: String
    var name: String
    var memberIds: [String]
}

struct QueueInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var memberIds: Patch<[String]> = .absent
}

struct TeamMemberDTO: Content, Equatable {
    var principalId: String
    var access: String
}

struct TeamDTO: Content {
    var id: String
    var name: String
    var members: [TeamMemberDTO]
}

struct TeamInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var members: Patch<[TeamMemberDTO]> = .absent
}

struct RoleDTO: Content {
    var id: String
    var name: String
    var hourlyRate: Double
    var blockHourMultiplier: Double

    init(_ role: Role) {
        id = role.id!.uuidString
        name = role.name
        hourlyRate = role.hourlyRate
        blockHourMultiplier = role.blockHourMultiplier
    }
}

struct RoleInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var hourlyRate: Patch<Double> = .absent
    var blockHourMultiplier: Patch<Double> = .absent
}

struct InternalLocationDTO: Content {
    var id: String
    var name: String
    var timeZone: String
    var businessHours: [BusinessDay]
    var holidays: [String]

    init(_ location: InternalLocation) {
        id = location.id!.uuidString
        name = location.name
        timeZone = location.timeZone
        businessHours = location.businessHours
        holidays = location.holidays
    }
}

struct InternalLocationInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var timeZone: Patch<String> = .absent
    var businessHours: Patch<[BusinessDay]> = .absent
    var holidays: Patch<[String]> = .absent
}
