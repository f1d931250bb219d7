import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/queues`: queues by name, with how many people have each. A person's queues are set on the
/// person (a resource, or a co-managing user's access tab), so the form holds the name only.
enum QueuePages: ConfigurationPage {
    typealias Collection = QueuesCollection
    static let path = "queues"
    static let title = "Queues"
    static let intro = "Tickets wait in a queue; staff whose ticket scope is \"my queues\" see the tickets of the queues they have."
    static let columns = ["Members"]

    static func cells(_ dto: QueueDTO) -> [String] { [String(dto.memberIds.count)] }

    static func values(_ dto: QueueDTO?) -> [String: String] { ["name": dto?.name ?? ""] }

    static func fields(_ values: [String: String], _ problems: [String: String]) -> [ConfigurationPages.Field] {
        [ConfigurationPages.Field(name: "name", label: "Name", value: values["name"] ?? "", error: problems["name"], maxLength: 100)]
    }

    static func input(_ values: [String: String]) throws -> QueueInput {
        var input = QueueInput()
        input.name = .value(values["name"] ?? "")
        return input
    }

    static func consequences(_ row: Queue, by principal: Principal, on db: any Database) async throws -> [String] {
        var filter = TicketFilter()
        filter.queueId = row.id
        let tickets = try await TicketService.count(filter, by: principal, on: db)
        let members = try await QueueMember.query(on: db).filter(\.$queueId == row.id!).count()
        return [
            "Tickets you can see in this queue: \(tickets).",
            members == 0 ? "Nobody has this queue." : "\(ConfigurationPages.count(members, "person", "people")) have this queue; it is taken off their queues.",
        ]
    }
}
