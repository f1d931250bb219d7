import Foundation

// Rules, actions and their parts as API bodies and stored JSON: what has a natural default may be
// left out (an active rule, no conditions, no people), so a body names only what it means. The id
// is the server's: a body without one decodes with a new id the server then replaces.

private struct Keys: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == Keys {
    fileprivate func value<T: Decodable>(_ key: String, or fallback: @autoclosure () -> T) throws -> T {
        try decodeIfPresent(T.self, forKey: Keys(key)) ?? fallback()
    }

    fileprivate func value<T: Decodable>(_ key: String) throws -> T {
        try decode(T.self, forKey: Keys(key))
    }
}

extension TicketRule {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(
            id: try c.value("id", or: UUID()), name: try c.value("name"), active: try c.value("active", or: true),
            criteria: try c.value("criteria", or: TicketRuleCriteria()), outcome: try c.value("outcome"), stopMatching: try c.value("stopMatching", or: false),
            broken: try c.value("broken", or: nil))
    }
}

extension WorkflowRule {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(
            id: try c.value("id", or: UUID()), name: try c.value("name"), active: try c.value("active", or: true), triggers: try c.value("triggers"),
            conditions: try c.value("conditions", or: []), actions: try c.value("actions"), broken: try c.value("broken", or: nil))
    }
}

extension WorkflowActions {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(update: try c.value("update", or: nil), notify: try c.value("notify", or: []), addNote: try c.value("addNote", or: nil))
    }
}

extension NotificationRequest {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(
            kind: try c.value("kind"), roles: try c.value("roles", or: []), people: try c.value("people", or: []), addresses: try c.value("addresses", or: []))
    }
}

extension ExplicitAddress {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(email: try c.value("email"), audience: try c.value("audience", or: .contact))
    }
}

extension FieldCondition {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(try c.value("field"), try c.value("op"), try c.value("values", or: []))
    }
}

extension TicketAction {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(
            id: try c.value("id", or: UUID()), name: try c.value("name"), changes: try c.value("changes", or: TicketFieldChanges()),
            note: try c.value("note", or: nil), securityLevelIds: try c.value("securityLevelIds", or: nil), teamIds: try c.value("teamIds", or: nil))
    }
}

extension SiteNotificationRule.Contact {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        self.init(contactId: try c.value("contactId"), hours: try c.value("hours", or: .always), instructions: try c.value("instructions", or: nil))
    }
}
