import Foundation

/// The columns a scope can test. The server maps each to a real column per table.
public enum ScopeColumn: String, Sendable, Hashable {
    case id, organization, site, queue, team, contact
    /// Who owns the row (saved filters).
    case owner
}

/// "Which objects can P see" as a predicate the server renders into SQL, so lists filter
/// in the database, and that the core can evaluate for one object's facts.
public indirect enum Scope: Sendable, Equatable {
    case all
    case none
    case column(ScopeColumn, in: Set<UUID>)
    case assignedTo(UUID)
    case coManagedVisible
    /// The row is shared with others (saved filters shared as lists).
    case shared
    case publishTo(in: Set<PublishTo>)
    /// Rows of several areas in one table (domain events).
    case area(in: Set<Area>)
    /// The row belongs to no organization: the MSP's own (an MSP department).
    case noOrganization
    case and([Scope])
    case or([Scope])

    public static func isIn(_ column: ScopeColumn, _ ids: Set<UUID>) -> Scope {
        ids.isEmpty ? .none : .column(column, in: ids)
    }

    public static func equals(_ column: ScopeColumn, _ id: UUID?) -> Scope {
        id.map { .column(column, in: [$0]) } ?? .none
    }

    /// Conjunction that folds away `.all` and short-circuits on `.none`.
    public static func allOf(_ parts: [Scope]) -> Scope {
        var kept: [Scope] = []
        for part in parts {
            switch part {
            case .all: continue
            case .none: return .none
            default: kept.append(part)
            }
        }
        return kept.isEmpty ? .all : kept.count == 1 ? kept[0] : .and(kept)
    }

    /// Disjunction that folds away `.none` and short-circuits on `.all`.
    public static func anyOf(_ parts: [Scope]) -> Scope {
        var kept: [Scope] = []
        for part in parts {
            switch part {
            case .none: continue
            case .all: return .all
            default: kept.append(part)
            }
        }
        return kept.isEmpty ? .none : kept.count == 1 ? kept[0] : .or(kept)
    }

    public func evaluate(_ facts: ScopeFacts) -> Bool {
        switch self {
        case .all: true
        case .none: false
        case .column(let column, let ids): facts.values[column].flatMap { $0 }.map(ids.contains) ?? false
        case .assignedTo(let id): facts.assigneeIds.contains(id)
        case .coManagedVisible: facts.coManagedVisible
        case .shared: facts.shared
        case .publishTo(let allowed): facts.publishTo.map(allowed.contains) ?? false
        case .area(let areas): facts.area.map(areas.contains) ?? false
        case .noOrganization: facts.values[.organization].map { $0 == nil } ?? false
        case .and(let parts): parts.allSatisfy { $0.evaluate(facts) }
        case .or(let parts): parts.contains { $0.evaluate(facts) }
        }
    }
}

/// One object's facts, for evaluating a scope in Swift.
public struct ScopeFacts: Sendable, Equatable {
    public var values: [ScopeColumn: UUID?]
    public var assigneeIds: Set<UUID>
    public var coManagedVisible: Bool
    public var publishTo: PublishTo?
    public var shared: Bool
    public var area: Area?

    public init(
        values: [ScopeColumn: UUID?], assigneeIds: Set<UUID> = [], coManagedVisible: Bool = false, publishTo: PublishTo? = nil, shared: Bool = false,
        area: Area? = nil
    ) {
        self.area = area
        self.values = values
        self.assigneeIds = assigneeIds
        self.coManagedVisible = coManagedVisible
        self.publishTo = publishTo
        self.shared = shared
    }
}
