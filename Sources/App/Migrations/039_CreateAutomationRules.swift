import Fluent
import Foundation
import SQLKit
import TandemCore

/// Ticket rules, workflow rules and ticket actions in one table, each row a core definition as JSON
/// (`TicketRule`, `WorkflowRule`, `TicketAction`) in its list's order. The minimal `workflow_rules`
/// of co-management's deactivation become workflow rules that notify the people they named; a fresh
/// install gets the default workflow rules (the out-of-the-box notifications).
struct CreateAutomationRules: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AutomationRule.schema)
            .id()
            .field("kind", .string, .required)
            .field("position", .int, .required)
            .field("name", .string, .required)
            .field("definition", .string, .required)
            .field("broken_reason", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX automation_rules_list ON automation_rules (kind, position)").run()

        let now = Date()
        var rules = WorkflowRule.defaults
        for row in try await (database as! any SQLDatabase).raw("SELECT * FROM workflow_rules ORDER BY created_at").all() {
            let people: [UUID] = JSONColumn.decode(try row.decode(column: "referenced_principal_ids", as: String.self), default: [])
            let trigger: WorkflowTrigger = try row.decode(column: "event", as: String.self) == "ticketCreated" ? .created : .edited
            var rule = WorkflowRule(
                id: try row.decode(column: "id", as: UUID.self), name: try row.decode(column: "name", as: String.self),
                active: try row.decode(column: "active", as: Bool.self), triggers: [trigger],
                actions: WorkflowActions(notify: people.isEmpty ? [] : [NotificationRequest(kind: .ticketUpdated, people: people)]))
            if try row.decode(column: "broken", as: Bool.self) {
                rule.broken = try row.decode(column: "broken_reason", as: String?.self) ?? "a name in it no longer resolves"
            }
            rules.append(rule)
        }
        for (position, rule) in rules.enumerated() {
            try await AutomationRule(.workflowRule, rule, id: rule.id, name: rule.name, position: position, broken: rule.broken, at: now).create(on: database)
        }
        try await database.schema("workflow_rules").delete()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AutomationRule.schema).delete()
        try await CreateWorkflowRule().prepare(on: database)
    }
}
