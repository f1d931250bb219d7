import Fluent
import Foundation
import SQLKit
import Spreadsheets
import TandemCore
import Vapor

/// `GET /api/v1/organizations/{id}/audit-export?format=csv|jsonl&from=&to=` (and the organization page's
/// download): one organization's audit events, oldest first, as `AccessPolicy.auditExport` allows. The
/// events are read a page at a time by cursor and written to the response as they come, so an export of
/// any size holds one page in memory. The export is itself audited before the first byte goes out.
enum AuditExport {
    enum Format: String, Sendable {
        case csv, jsonl

        var mediaType: HTTPMediaType {
            switch self {
            case .csv: HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
            case .jsonl: HTTPMediaType(type: "application", subType: "x-ndjson")
            }
        }
    }

    /// Rows read per query while streaming.
    static let batchSize = 500
    static let columns = [
        "id", "at", "actorId", "actorKind", "actorName", "action", "entityType", "entityId", "organizationId", "ticketId", "before", "after",
    ]

    /// What the export's own audit event records.
    struct Record: Encodable, Sendable {
        var format: String
        var period: [String: String]
    }

    @Sendable static func download(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let organizationId = try req.id("id", "organization")
        let rights = AccessPolicy.auditExport(for: principal)
        // An organization outside the export's reach reads as unknown, before its parameters are looked at.
        guard rights.allows(organizationId: organizationId), let organization = try await Organization.find(organizationId, on: req.db) else {
            throw TandemError.notFound("organization")
        }
        var validator = FieldValidator()
        let formatText = req.queryText("format") ?? "csv"
        let format = Format(rawValue: formatText.lowercased())
        if format == nil { validator.fail("format", "must be csv or jsonl") }
        let period = AuditPeriod.parse(from: req.queryText("from"), to: req.queryText("to"), &validator)
        try QueryProblem.check(validator)
        guard let format else { throw TandemError.badRequest("format must be csv or jsonl") }

        let record = Record(format: format.rawValue, period: period.summary)
        try await req.db.write { db in
            try await Audit.record("exported", Organization.schema, id: organizationId, by: principal, organizationId: organizationId, after: record, on: db)
        }

        let db = req.db
        let filter = AuditFilter(organizationId: organizationId, period: period)
        let response = Response(
            status: .ok,
            body: req.application.inFlightRequests.streamed { writer in
                if format == .csv {
                    try await writer.writeBuffer(ByteBuffer(bytes: CSVTableWriter.byteOrderMark + CSVTableWriter.line(AuditExport.columns)))
                }
                var page = PageRequest(limit: AuditExport.batchSize)
                repeat {
                    let (events, next) = try await AuditExport.query(filter, rights: rights, on: db).page(page)
                    let rows = try await AuditExport.shaped(events, rights: rights, for: principal, on: db)
                    var bytes: [UInt8] = []
                    for row in rows { bytes += try AuditExport.encode(row, as: format) }
                    if !bytes.isEmpty { try await writer.writeBuffer(ByteBuffer(bytes: bytes)) }
                    page.after = next.flatMap { _ in events.last?.id?.uuidString }
                } while page.after != nil
            })
        response.headers.contentType = format.mediaType
        response.headers.setAttachment(filename: fileName(organization.name, format))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    /// The organization's events the rights reach, narrowed by the filter, in SQL.
    static func query(_ filter: AuditFilter, rights: AuditExportRights, on db: any Database) -> QueryBuilder<AuditEvent> {
        var query = filter.apply(to: AuditEvent.query(on: db).filter(rights.scope, on: AuditEvent.scopeTable))
        if rights.tickets != .all {
            let tickets = rights.tickets.sql(for: Ticket.scopeTable)
            query = query.filter(
                .sql(SQLQueryString("(audit_events.ticket_id IS NULL OR audit_events.ticket_id IN (SELECT tickets.id FROM tickets WHERE \(tickets)))")))
        }
        if !rights.ticketItems {
            query = query.filter(\.$entityType !~ [Note.schema, TimeEntry.schema, Attachment.schema])
        }
        if !rights.billing {
            query = query.filter(\.$entityType != BlockHourContract.schema)
        }
        if !rights.everyRecord {
            query = query.filter(\.$entityType ~~ clientFacingRecords)
        }
        return query
    }

    /// The records whose events an export without `everyRecord` holds (`AuditExportRights.everyRecord`): a list of
    /// what may be shown, so that a record added later stays out until it is named here.
    static let clientFacingRecords = [Ticket.schema, Contact.schema, Site.schema, Organization.schema, CoManagingUser.schema]

    /// The events as the exporter may read them: without `before`/`after` unless the rights give details, and
    /// actors it may not see named by kind only (as in a ticket's history).
    static func shaped(_ events: [AuditEvent], rights: AuditExportRights, for principal: Principal, on db: any Database) async throws -> [AuditEventDTO] {
        let people = try await PeopleDirectory.visible(events.compactMap(\.actorId), to: principal, on: db)
        return events.map { event in
            var dto = AuditEventDTO(event)
            if let actorId = event.actorId, !people.contains(actorId) {
                dto.actorId = nil
                dto.actorName = PeopleDirectory.anonymous(event.actorKind.flatMap(PrincipalKind.init(rawValue:)))
            }
            if !rights.details {
                dto.before = nil
                dto.after = nil
            }
            return dto
        }
    }

    static let encoder: JSONEncoder = {
        // What the API's encoder writes (`configure`), so a line reads like an `AuditEventDTO` of the API.
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = ISO8601.encodingStrategy
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func encode(_ event: AuditEventDTO, as format: Format) throws -> [UInt8] {
        switch format {
        case .jsonl:
            return Array(try encoder.encode(event)) + [0x0A]
        case .csv:
            // Free text (names, JSON) is neutralized so no spreadsheet runs it as a formula.
            let cells = [
                event.id, ISO8601.string(from: event.at), event.actorId ?? "", event.actorKind ?? "", CellSafety.neutralize(event.actorName),
                event.action, event.entityType, event.entityId ?? "", event.organizationId ?? "", event.ticketId ?? "",
                event.before.map(CellSafety.neutralize) ?? "", event.after.map(CellSafety.neutralize) ?? "",
            ]
            return CSVTableWriter.line(cells)
        }
    }

    /// `<organization>-audit.csv`, the name reduced to letters, digits and dashes.
    static func fileName(_ organization: String, _ format: Format) -> String {
        let base = organization.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce(into: "") { $0.append($1) }
        return "\(base.isEmpty ? "organization" : base)-audit.\(format.rawValue)"
    }
}
