import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/sla-policies`: an organization's targets per priority. Read by MSP staff within their
/// client restrictions, changed with `manageSettings` (`AccessPolicy.slaPolicyScope`).
enum SLAPoliciesCollection: CRUDCollection {
    static let path: PathComponent = "sla-policies"
    static let what = "SLA policy"
    static let table = SLAPolicy.scopeTable

    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        AccessPolicy.slaPolicyScope(for: principal, operation)
    }

    static func authorizeCreate(_ principal: Principal) throws { try AccessPolicy.authorizeSLAPolicyCreation(principal) }

    static func authorize(_ operation: AccessOperation, _ row: SLAPolicy, by principal: Principal, on db: any Database) async throws {
        try await Lookup.require(
            row, in: scope(for: principal, operation), table: table, "your security level does not allow changing SLA policies (it needs manageSettings)",
            on: db)
    }

    /// `?organizationId=`: one organization's policies.
    static func narrow(_ query: QueryBuilder<SLAPolicy>, _ req: Request) throws -> QueryBuilder<SLAPolicy> {
        guard let text = req.queryText("organizationId") else { return query.sort(\.$organizationId).sort(\.$priority) }
        guard let id = UUID(uuidString: text) else { throw TandemError.invalid("organizationId", "'\(text)' is not a valid id") }
        return query.filter(\.$organizationId == id)
    }

    static func dto(_ row: SLAPolicy, on db: any Database) async throws -> SLAPolicyDTO { SLAPolicyDTO(row) }

    static func apply(_ input: SLAPolicyInput, to row: SLAPolicy, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        var validator = FieldValidator()
        let principal = try req.principal
        if creating || !input.organizationId.isAbsent, let id = validator.id(input.organizationId.value, "organizationId") {
            // An organization outside the caller's reach reads as unknown; the policy's scope decides.
            let visible = OrganizationsCollection.scope(for: principal, .view)
            let known = try await Organization.query(on: req.db).filter(\.$id == id).filter(visible, on: Organization.scopeTable).count() > 0
            if !known || !scope(for: principal, .create).evaluate(ScopeFacts(values: [.organization: id, .id: nil])) {
                validator.fail("organizationId", "no organization with this id")
            } else {
                row.organizationId = id
            }
        }
        if creating || !input.priority.isAbsent, let priority = validator.choice(input.priority.value, "priority", as: TicketPriority.self) {
            row.priority = priority.rawValue
        }
        if creating || !input.firstResponseMinutes.isAbsent {
            if let minutes = validator.range(input.firstResponseMinutes.value, "firstResponseMinutes", 1...SLATargets.maximumMinutes) {
                row.firstResponseMinutes = minutes
            }
        }
        if creating || !input.resolutionMinutes.isAbsent {
            if let minutes = validator.range(input.resolutionMinutes.value, "resolutionMinutes", 1...SLATargets.maximumMinutes) {
                row.resolutionMinutes = minutes
            }
        }
        if creating && input.approachingPercent.isAbsent {
            row.approachingPercent = SLATargets.defaultApproachingPercent
        } else if !input.approachingPercent.isAbsent, let percent = validator.range(input.approachingPercent.value, "approachingPercent", 1...99) {
            row.approachingPercent = percent
        }
        try validator.check()
        for problem in row.targets.problems { validator.fail(problem.field, problem.message) }
        try validator.check()
        // The tickets under the policy as saved have their clocks worked out again (those it no longer covers find
        // none when their moment comes).
        let organizationId = row.organizationId, priority = row.priority
        return { db in
            try await SLASchedule.recheck("t.organization_id = \(bind: organizationId) AND t.priority = \(bind: priority)", now: db.now, on: db)
            return []
        }
    }

    static func prepareDelete(_ row: SLAPolicy, on db: any Database) async throws {}

    static func organizationId(_ row: SLAPolicy) -> UUID? { row.organizationId }

    static func clash(_ row: SLAPolicy) -> String? { "the organization already has an SLA policy for \(row.priority) priority; change that one" }
}

/// The SLA routes: the policies, a ticket's clocks and the handoff.
enum SLAAPI {
    static func register(_ api: any RoutesBuilder) {
        CRUD.register(SLAPoliciesCollection.self, api)
        TicketSLA.register(api)
    }
}
