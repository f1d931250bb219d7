import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/roles`: billing roles with their hourly rate and block-hour multiplier.
enum RolePages: ConfigurationPage {
    typealias Collection = RolesCollection
    static let path = "roles"
    static let title = "Roles"
    static let intro = "Time is logged under a role: its hourly rate bills the time, and its block-hour multiplier counts it against prepaid hours."
    static let columns = ["Hourly rate", "Block-hour multiplier"]

    static func cells(_ dto: RoleDTO) -> [String] {
        [ConfigurationPages.number(dto.hourlyRate), ConfigurationPages.number(dto.blockHourMultiplier)]
    }

    static func values(_ dto: RoleDTO?) -> [String: String] {
        [
            "name": dto?.name ?? "", "hourlyRate": dto.map { ConfigurationPages.number($0.hourlyRate) } ?? "",
            "blockHourMultiplier": ConfigurationPages.number(dto?.blockHourMultiplier ?? 1),
        ]
    }

    static func fields(_ values: [String: String], _ problems: [String: String]) -> [ConfigurationPages.Field] {
        [
            ConfigurationPages.Field(name: "name", label: "Name", value: values["name"] ?? "", error: problems["name"], maxLength: 100),
            ConfigurationPages.Field(
                name: "hourlyRate", label: "Hourly rate", kind: "number", value: values["hourlyRate"] ?? "", hint: "per hour, such as 120 or 95.50",
                error: problems["hourlyRate"]),
            ConfigurationPages.Field(
                name: "blockHourMultiplier", label: "Block-hour multiplier", kind: "number", value: values["blockHourMultiplier"] ?? "",
                hint: "hours of a block used per hour worked, such as 1 or 1.5", error: problems["blockHourMultiplier"]),
        ]
    }

    static func input(_ values: [String: String]) throws -> RoleInput {
        var validator = FieldValidator()
        var input = RoleInput()
        input.name = .value(values["name"] ?? "")
        input.hourlyRate = ConfigurationPages.number(values["hourlyRate"], "hourlyRate", &validator)
        input.blockHourMultiplier = ConfigurationPages.number(values["blockHourMultiplier"], "blockHourMultiplier", &validator)
        try validator.check()
        return input
    }

    static func consequences(_ row: Role, by principal: Principal, on db: any Database) async throws -> [String] {
        let holders = try await CoManagingUserRole.query(on: db).filter(\.$roleId == row.id!).all(\.$userId)
        let users = try await PeopleDirectory.visible(holders, kind: .coManagingUser, to: principal, on: db).count
        return ["Co-managing users you can see with this role: \(users)."]
    }
}
