import Fluent

/// Which side holds a ticket (SPEC §13): `msp` (every ticket so far, and every new one) or `clientIT`;
/// only a handoff changes it.
struct AddTicketResponsibleSide: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Ticket.schema).field("responsible_side", .string, .required, .sql(.default("msp"))).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Ticket.schema).deleteField("responsible_side").update()
    }
}
