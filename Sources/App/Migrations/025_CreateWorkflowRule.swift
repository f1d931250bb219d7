import Fluent

/// Workflow rules, minimal until the automation issue: enough to mark rules that reference
/// co-managing users as broken when co-management is deactivated.
struct CreateWorkflowRule: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("workflow_rules")
            .id()
            .field("name", .string, .required)
            .field("event", .string, .required)
            .field("referenced_principal_ids", .string, .required)
            .field("active", .bool, .required)
            .field("broken", .bool, .required)
            .field("broken_reason", .string)
            .field("created_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("workflow_rules").delete()
    }
}
