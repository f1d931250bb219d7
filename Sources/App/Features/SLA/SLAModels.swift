import Fluent
import Foundation
import TandemCore
import Vapor

/// An SLA policy: an organization's targets for one priority (business minutes of the ticket's site's
/// internal location; `BusinessCalendar.allHours` when it has none).
final class SLAPolicy: Model, @unchecked Sendable {
    static let schema = "sla_policies"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id"])

    @ID(key: .id) var id: UUID?
    @Field(key: "organization_id") var organizationId: UUID
    @Field(key: "priority") var priority: String
    @Field(key: "first_response_minutes") var firstResponseMinutes: Int
    @Field(key: "resolution_minutes") var resolutionMinutes: Int
    @Field(key: "approaching_percent") var approachingPercent: Int
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    var targets: SLATargets {
        SLATargets(firstResponseMinutes: firstResponseMinutes, resolutionMinutes: resolutionMinutes, approachingPercent: approachingPercent)
    }
}

/// The SLA events the watch recorded (`sla_alerts`): one row per ticket, target and kind, `UNIQUE (ticket_id,
/// target, kind)`; read and written with SQL only (`SLAWatch`).
enum SLAAlert {
    static let schema = "sla_alerts"

    enum Kind: String, CaseIterable {
        case approaching, breached

        var eventType: DomainEventType {
            switch self {
            case .approaching: .ticketSLAApproaching
            case .breached: .ticketSLABreached
            }
        }

        /// The audit entry's action.
        var action: String {
            switch self {
            case .approaching: "slaApproaching"
            case .breached: "slaBreached"
            }
        }
    }
}

struct SLAPolicyDTO: Content {
    var id: String
    var organizationId: String
    var priority: String
    var firstResponseMinutes: Int
    var resolutionMinutes: Int
    var approachingPercent: Int

    init(_ policy: SLAPolicy) {
        id = policy.id!.uuidString
        organizationId = policy.organizationId.uuidString
        priority = policy.priority
        firstResponseMinutes = policy.firstResponseMinutes
        resolutionMinutes = policy.resolutionMinutes
        approachingPercent = policy.approachingPercent
    }
}

struct SLAPolicyInput: Decodable, Sendable {
    var organizationId: Patch<String> = .absent
    var priority: Patch<String> = .absent
    var firstResponseMinutes: Patch<Int> = .absent
    var resolutionMinutes: Patch<Int> = .absent
    var approachingPercent: Patch<Int> = .absent
}
