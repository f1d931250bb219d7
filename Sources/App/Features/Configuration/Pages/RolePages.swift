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
        [dto.hourlyRate.map { "\($0)" } ?? "", dto.blockHourMultiplier.map { "\($0)" } ?? ""]
    }

    /// A stored role shown to someone who may not see billing has no rates: its form leaves them out, and a save keeps them.
    static func values(_ dto: RoleDTO?) -> [String: String] {
        guard let dto else { return ["name": "", "hourlyRate": "", "blockHourMultiplier": "1"] }
        var values = ["name": dto.name]
        if let rate = dto.hourlyRate { values["hourlyRate"] = "\(rate)" }
        if let multiplier = dto.blockHourMultiplier { values["blockHourMultiplier"] = "\(multiplier)" }
        return values
    }

    static func fields(_ values: [String: String], _ problems: [String: String]) -> [ConfigurationPages.Field] {
        var fields = [ConfigurationPages.Field(name: "name", label: "Name", value: values["name"] ?? "", error: problems["name"], maxLength: 100)]
        if let rate = values["hourlyRate"] {
            fields.append(
                ConfigurationPages.Field(
                    name: "hourlyRate", label: "Hourly rate", kind: "number", value: rate, hint: "per hour, such as 120 or 95.50 (at most four decimal places)",
                    error: problems["hourlyRate"]))
        }
        if let multiplier = values["blockHourMultiplier"] {
            fields.append(
                ConfigurationPages.Field(
                    name: "blockHourMultiplier", label: "Block-hour multiplier", kind: "number", value: multiplier,
                    hint: "hours of a block used per hour worked, such as 1 or 1.5", error: problems["blockHourMultiplier"]))
        }
        return fields
    }

    static func input(_ values: [String: String]) throws -> RoleInput {
        var validator = FieldValidator()
        var input = RoleInput()
        input.name = .value(values["name"] ?? "")
        if values["hourlyRate"] != nil { input.hourlyRate = ConfigurationPages.decimal(values["hourlyRate"], "hourlyRate", &validator) }
        if values["blockHourMultiplier"] != nil {
            input.blockHourMultiplier = ConfigurationPages.decimal(values["blockHourMultiplier"], "blockHourMultiplier", &validator)
        }
        try validator.check()
        return input
    }

    static func consequences(_ row: Role, by principal: Principal, on db: any Database) async throws -> [String] {
        let holders = try await CoManagingUserRole.query(on: db).filter(\.$roleId == row.id!).all(\.$userId)
        let users = try await PeopleDirectory.visible(holders, kind: .coManagingUser, to: principal, on: db).count
        return ["Co-managing users you can see with this role: \(users)."]
    }
}
