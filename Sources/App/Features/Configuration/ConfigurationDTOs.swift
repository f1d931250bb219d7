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

/// A role; `hourlyRate` and `blockHourMultiplier` are exact JSON numbers, left out for those who may not see
/// billing (`AccessPolicy.seesBilling`).
struct RoleDTO: Content {
    var id: String
    var name: String
    var hourlyRate: Decimal?
    var blockHourMultiplier: Decimal?

    init(_ role: Role) {
        id = role.id!.uuidString
        name = role.name
        hourlyRate = role.hourlyRate.decimal
        blockHourMultiplier = role.blockHourMultiplier.decimal
    }
}

/// `hourlyRate` and `blockHourMultiplier` are read as `Decimal`, which `JSONDecoder` takes from the number's
/// text (never through Double: `BillingMoneyTests.jsonDecoderReadsDecimalsFromTheText`).
struct RoleInput: Decodable, Sendable {
    var name: Patch<String> = .absent
    var hourlyRate: Patch<Decimal> = .absent
    var blockHourMultiplier: Patch<Decimal> = .absent
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
