import Fluent
import Foundation
import PostgresKit
import SQLKit
import SQLiteKit
import TandemCore
import Vapor

extension TicketService {

    /// The ticket's own audit events as `principal` may read them: the fields its ticket GET shows it
    /// (`AccessPolicy.visibleTicketFields`; an update that changed none of them is left out), and the people
    /// it may not see (`AccessPolicy.peopleScope`) neither named as actors nor listed as assignees or contact. Items
    /// (notes, time entries, attachments) have events of their own, never listed here.
    static func history(_ id: UUID, page: PageRequest, by principal: Principal, on db: any Database) async throws -> ListPage<AuditEventDTO> {
        _ = try await visible(id, by: principal, on: db)
        let (events, next) = try await AuditEvent.query(on: db).filter(\.$ticketId == id).filter(\.$entityType == Ticket.schema).page(page)
        let snapshots = events.map { (before: TicketSnapshot($0.before), after: TicketSnapshot($0.after)) }
        let named = Set(snapshots.flatMap { ($0.before?.people ?? []) + ($0.after?.people ?? []) })
        let people = try await PeopleDirectory.visible(events.compactMap(\.actorId) + named, to: principal, on: db)
        let fields = TicketField.shown(to: principal)
        let shaping = fields != nil || !named.isSubset(of: people)
        var items: [AuditEventDTO] = []
        for (event, snapshot) in zip(events, snapshots) {
            var dto = AuditEventDTO(event)
            if let actorId = event.actorId, !people.contains(actorId) {
                dto.actorId = nil
                dto.actorName = PeopleDirectory.anonymous(event.actorKind.flatMap(PrincipalKind.init(rawValue:)))
            }
            if shaping {
                dto.before = snapshot.before?.shaped(showing: fields, people: people)
                dto.after = snapshot.after?.shaped(showing: fields, people: people)
                // An update of nothing this reader may see (every update moves the version and the time).
                let compared = (fields ?? Set(TicketField.allCases)).subtracting([.version, .updatedAt])
                if let before = snapshot.before, let after = snapshot.after,
                    before.shaped(showing: compared, people: people) == after.shaped(showing: compared, people: people)
                {
                    continue
                }
            }
            items.append(dto)
        }
        return ListPage(items: items, nextCursor: next)
    }
}
