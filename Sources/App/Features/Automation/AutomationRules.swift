import Fluent
import Foundation
import TandemCore

/// One ticket rule, workflow rule or ticket action: its core definition as JSON, in its list's order.
final class AutomationRule: Model, @unchecked Sendable {
    static let schema = "automation_rules"

    enum Kind: String, Codable, Sendable {
        case ticketRule, workflowRule, ticketAction
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "kind") var kind: Kind
    @Field(key: "position") var position: Int
    @Field(key: "name") var name: String
    @Field(key: "definition") var definition: String
    /// Why the rule never fires until it is repaired; nil when it is whole.
    @OptionalField(key: "broken_reason") var brokenReason: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    init(_ kind: Kind, _ definition: some Encodable, id: UUID, name: String, position: Int, broken: String?, at: Date) {
        self.id = id
        self.kind = kind
        self.position = position
        self.name = name
        self.definition = JSONColumn.encode(definition)
        self.brokenReason = broken
        self.createdAt = at
        self.updatedAt = at
    }

    /// The row of a `D` with this id, or the 404.
    static func one<D: StoredAutomation>(_ type: D.Type, id: UUID, what: String, on db: any Database) async throws -> AutomationRule {
        guard let row = try await query(on: db).filter(\.$id == id).filter(\.$kind == D.kind).first() else { throw TandemError.notFound(what) }
        return row
    }

    /// The ids the rule names.
    func references() throws -> AutomationReferences {
        switch kind {
        case .ticketRule: try decoded(TicketRule.self).references
        case .workflowRule: try decoded(WorkflowRule.self).references
        case .ticketAction: try decoded(TicketAction.self).references
        }
    }

    /// A workflow rule, last in the list, telling `people` of new tickets (the demo's, the tests').
    @discardableResult
    static func notifying(_ name: String, people: [UUID], on db: any Database) async throws -> AutomationRule {
        let rule = WorkflowRule(
            id: .v7(), name: name, triggers: [.created], actions: WorkflowActions(notify: [NotificationRequest(kind: .ticketUpdated, people: people)]))
        let last = try await AutomationRule.query(on: db).filter(\.$kind == .workflowRule).max(\.$position) ?? -1
        let row = AutomationRule(.workflowRule, rule, id: rule.id, name: name, position: last + 1, broken: nil, at: db.now)
        try await row.create(on: db)
        return row
    }

    func decoded<D: StoredAutomation>(_ type: D.Type) throws -> D {
        guard var value = JSONColumn.decodeIfValid(definition, as: D.self) else {
            throw TandemError.conflict("the stored \(kind.rawValue) '\(name)' cannot be read")
        }
        value.id = id!
        value.name = name
        value.brokenMark = brokenReason
        return value
    }
}

/// A core definition kept in `automation_rules`.
protocol StoredAutomation: Codable, Sendable {
    static var kind: AutomationRule.Kind { get }
    var id: UUID { get set }
    var name: String { get set }
    var references: AutomationReferences { get }
    /// The rule's broken mark (ticket actions have none: they are checked when run).
    var brokenMark: String? { get set }
    func validate() throws(TandemError)
}

extension TicketRule: StoredAutomation {
    static var kind: AutomationRule.Kind { .ticketRule }
    var brokenMark: String? {
        get { broken }
        set { broken = newValue }
    }
}

extension WorkflowRule: StoredAutomation {
    static var kind: AutomationRule.Kind { .workflowRule }
    var brokenMark: String? {
        get { broken }
        set { broken = newValue }
    }
}

extension TicketAction: StoredAutomation {
    static var kind: AutomationRule.Kind { .ticketAction }
    var brokenMark: String? {
        get { nil }
        set {}
    }
}

/// Loading the rules, and marking those whose names no longer resolve.
enum Automations {
    static func all<D: StoredAutomation>(_ type: D.Type, on db: any Database) async throws -> [D] {
        try await AutomationRule.query(on: db).filter(\.$kind == D.kind).sort(\.$position).sort(\.$id).all().map { try $0.decoded(D.self) }
    }

    static func rules(on db: any Database) async throws -> AutomationRules {
        AutomationRules(ticketRules: try await all(TicketRule.self, on: db), workflowRules: try await all(WorkflowRule.self, on: db))
    }

    /// Of the ids `references` names, those that still resolve, by kind: organizations, sites,
    /// contacts, queues and teams that exist, security levels, and active resources or co-managing users.
    static func resolving(_ references: AutomationReferences, on db: any Database) async throws -> [ReferenceKind: Set<UUID>] {
        var found: [ReferenceKind: Set<UUID>] = [:]
        for (kind, ids) in references.ids where !ids.isEmpty {
            let list = Array(ids)
            switch kind {
            case .organization: found[kind] = Set(try await Organization.query(on: db).filter(\.$id ~~ list).all().compactMap(\.id))
            case .site: found[kind] = Set(try await Site.query(on: db).filter(\.$id ~~ list).all().compactMap(\.id))
            case .contact: found[kind] = Set(try await Contact.query(on: db).filter(\.$id ~~ list).all().compactMap(\.id))
            case .queue: found[kind] = Set(try await Queue.query(on: db).filter(\.$id ~~ list).all().compactMap(\.id))
            case .team: found[kind] = Set(try await Team.query(on: db).filter(\.$id ~~ list).all().compactMap(\.id))
            case .securityLevel: found[kind] = Set(try await SecurityLevel.query(on: db).filter(\.$id ~~ list).all().compactMap(\.id))
            case .person:
                let resources = try await Resource.query(on: db).filter(\.$id ~~ list).filter(\.$active == true).all().compactMap(\.id)
                let users = try await CoManagingUser.query(on: db).filter(\.$id ~~ list).filter(\.$active == true).all().compactMap(\.id)
                let coManagement = try await Setting.flag(Setting.coManagementEnabled, on: db)
                found[kind] = Set(resources + (coManagement ? users : []))
            }
        }
        return found
    }

    /// Why `definition` cannot be saved as it is (a name in it does not resolve), or nil.
    static func brokenReason(_ definition: some StoredAutomation, on db: any Database) async throws -> String? {
        definition.references.brokenReason(resolving: try await resolving(definition.references, on: db))
    }

    /// Marks the rules whose names no longer resolve: after a deactivation, an erasure or a deletion.
    /// A mark stays until the rule is repaired (saved again, whole). Answers the names newly broken.
    @discardableResult
    static func recheck(on db: any Database) async throws -> [String] {
        var newlyBroken: [String] = []
        for row in try await AutomationRule.query(on: db).filter(\.$kind != .ticketAction).filter(\.$brokenReason == nil).all() {
            let references = try row.references()
            guard let reason = references.brokenReason(resolving: try await resolving(references, on: db)) else { continue }
            newlyBroken.append(row.name)
            row.brokenReason = reason
            row.updatedAt = db.now
            try await row.save(on: db)
        }
        return newlyBroken
    }
}
