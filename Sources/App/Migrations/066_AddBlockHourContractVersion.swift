import Fluent
import SQLKit

/// A block-hour contract's `version`: a change names the version it was based on (the page's edit form always does),
/// so two people editing one contract do not silently overwrite each other (409). Existing contracts start at 1.
struct AddBlockHourContractVersion: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("ALTER TABLE block_hour_contracts ADD COLUMN version INTEGER NOT NULL DEFAULT 1").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("block_hour_contracts").deleteField("version").update()
    }
}
