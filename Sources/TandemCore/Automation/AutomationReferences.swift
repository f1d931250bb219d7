import Foundation

/// The kinds of records a rule or an action can name.
public enum ReferenceKind: String, Codable, Sendable, CaseIterable, Comparable {
    case organization, site, contact, queue, team, securityLevel
    /// An assignee or an explicitly notified person: an MSP resource or an active co-managing user.
    case person

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    var label: String {
        switch self {
        case .organization: "organization"
        case .site: "site"
        case .contact: "contact"
        case .queue: "queue"
        case .team: "team"
        case .securityLevel: "security level"
        case .person: "resource or active co-managing user"
        }
    }
}

/// The ids a rule names, by kind. The server asks the database which of them still resolve
/// (`WHERE id IN …`, per kind) and hands the answer to `brokenReason(resolving:)`.
public struct AutomationReferences: Codable, Sendable, Equatable {
    public var ids: [ReferenceKind: Set<UUID>]

    public init(ids: [ReferenceKind: Set<UUID>] = [:]) { self.ids = ids }

    public mutating func add(_ kind: ReferenceKind, _ id: UUID?) {
        guard let id else { return }
        ids[kind, default: []].insert(id)
    }

    public mutating func add(_ kind: ReferenceKind, _ some: Set<UUID>?) {
        for id in some ?? [] { add(kind, id) }
    }

    public mutating func merge(_ other: AutomationReferences) {
        for (kind, set) in other.ids { ids[kind, default: []].formUnion(set) }
    }

    /// Why a rule naming these ids is broken (the first kind with ids that no longer resolve, and how many),
    /// or nil when every id resolves. `resolving` holds, per kind, the ids that still exist and are usable:
    /// for `.person`, the MSP resources and the *active* co-managing users (a deactivated or erased
    /// co-managing user, a deleted queue, breaks the rule). Repairing a rule is re-checking it: nil clears the mark.
    public func brokenReason(resolving: [ReferenceKind: Set<UUID>]) -> String? {
        for kind in ids.keys.sorted() {
            let missing = ids[kind, default: []].subtracting(resolving[kind] ?? [])
            guard !missing.isEmpty else { continue }
            let listed = missing.map { $0.uuidString.lowercased() }.sorted().joined(separator: ", ")
            return missing.count == 1
                ? "it refers to a \(kind.label) that no longer exists or is inactive (\(listed))"
                : "it refers to \(missing.count) of kind \(kind.label) that no longer exist or are inactive (\(listed))"
        }
        return nil
    }
}
