import Fluent
import Foundation
import TandemCore
import Vapor

/// A site's managed device, as much as the activation checklist needs (SPEC §6): its name, its kind,
/// and whether the monitoring agent is installed.
final class SiteDevice: Model, @unchecked Sendable {
    static let schema = "site_devices"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id", .site: "site_id"])

    enum Kind: String, Codable, Sendable, CaseIterable {
        case server, desktop, laptop, printer, network, mobile, other
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "organization_id") var organizationId: UUID
    @Field(key: "site_id") var siteId: UUID
    @Field(key: "name") var name: String
    @Field(key: "type") var type: String
    @Field(key: "agent_installed") var agentInstalled: Bool
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}
}

struct SiteDeviceDTO: Content {
    var id: String
    var organizationId: String
    var siteId: String
    var name: String
    var type: String
    var agentInstalled: Bool

    init(_ device: SiteDevice) {
        id = device.id!.uuidString
        organizationId = device.organizationId.uuidString
        siteId = device.siteId.uuidString
        name = device.name
        type = device.type
        agentInstalled = device.agentInstalled
    }
}

struct SiteDeviceInput: Decodable, Sendable {
    var siteId: Patch<String> = .absent
    var name: Patch<String> = .absent
    var type: Patch<String> = .absent
    var agentInstalled: Patch<Bool> = .absent
}

/// `/api/v1/devices` (`?siteId=` narrows): under the sites permission of the device's organization, for those who
/// read the site's runbook (`AccessPolicy.siteDeviceScope`: not contacts).
enum SiteDevicesCollection: OrganizationCollection {
    static let area = Area.sites
    static let path: PathComponent = "devices"
    static let what = "device"
    static let table = SiteDevice.scopeTable

    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        AccessPolicy.siteDeviceScope(for: principal, operation)
    }

    /// The site decides, once the body names it (`apply`).
    static func authorizeCreate(_ principal: Principal) {}

    static func narrow(_ query: QueryBuilder<SiteDevice>, _ req: Request) throws -> QueryBuilder<SiteDevice> {
        guard let text = req.queryText("siteId") else { return query }
        guard let site = UUID(uuidString: text) else { throw TandemError.invalid("siteId", "'\(text)' is not an id") }
        return query.filter(\.$siteId == site)
    }

    static func dto(_ row: SiteDevice, on db: any Database) -> SiteDeviceDTO { SiteDeviceDTO(row) }

    static func apply(_ input: SiteDeviceInput, to device: SiteDevice, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        var validator = FieldValidator()
        let siteId = creating ? validator.id(input.siteId.value, "siteId") : nil
        if !creating, let text = input.siteId.value, text != device.siteId.uuidString {
            validator.fail("siteId", "a device cannot move to another site; delete it and add it there")
        }
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 200) { device.name = name }
        if creating || !input.type.isAbsent {
            let type = input.type.value ?? SiteDevice.Kind.other.rawValue
            if SiteDevice.Kind(rawValue: type) != nil {
                device.type = type
            } else {
                validator.fail("type", "must be one of \(SiteDevice.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if creating || !input.agentInstalled.isAbsent { device.agentInstalled = input.agentInstalled.value ?? false }
        try validator.check()
        if let siteId {
            let visible = SitesCollection.scope(for: try req.principal, .view)
            guard let site = try await Site.query(on: req.db).filter(\.$id == siteId).filter(visible, on: Site.scopeTable).first() else {
                throw TandemError.invalid("siteId", "no site with this id")
            }
            try await requireOrganization(site.organizationId, req)
            device.siteId = siteId
            device.organizationId = site.organizationId
        }
        return nil
    }

    static func prepareDelete(_ row: SiteDevice, on db: any Database) async throws {}

    static func organizationId(_ row: SiteDevice) -> UUID? { row.organizationId }

    static func clash(_ row: SiteDevice) -> String? { nil }
}
