import Fluent

/// Which process holds an outbox message's claim (`ProcessIdentity`): with several instances an operator sees
/// whose delivery run a message waits on, and the scale check kills an instance that holds some. Additive: old
/// instances ignore the column.
struct AddOutboxClaimedBy: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(OutboxMessage.schema).field("claimed_by", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OutboxMessage.schema).deleteField("claimed_by").update()
    }
}
