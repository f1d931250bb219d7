import Fluent
import Foundation
import Spreadsheets
import TandemCore
import Vapor

/// `/api/v1/client-profiles` (one at a time) and a site's bulk `client-profiles/export` and `/import`.
enum ClientProfilesAPI {
    /// The largest upload an import takes; the file is streamed to disk, never held in memory.
    static let maxImportBytes = 256 * 1_048_576
    static let what = "client profile"

    static func register(_ api: any RoutesBuilder) {
        let profiles = api.grouped("client-profiles")
        profiles.get(use: list)
        profiles.post(use: create)
        profiles.get("template", use: template)
        profiles.get(":id") { req async throws -> ClientProfileDTO in ClientProfileDTO(try await visible(req)) }
        profiles.patch(":id", use: update)
        profiles.delete(":id", use: delete)

        let site = api.grouped("sites", ":id", "client-profiles")
        site.get("export", use: export)
        site.on(.POST, "import", body: .stream, use: importFile).acceptingUploads()
    }

    static func scope(_ req: Request, _ operation: AccessOperation) throws -> Scope {
        AccessPolicy.organizationScope(for: try req.principal, area: .contacts, operation)
    }

    static func visible(_ req: Request) async throws -> Contact {
        try await visible(req.id("id", what), by: req.principal, on: req.db)
    }

    /// A profile is a contact with a site; contacts without one are not profiles.
    static func visible(_ id: UUID, by principal: Principal, on db: any Database) async throws -> Contact {
        let scope = AccessPolicy.organizationScope(for: principal, area: .contacts, .view)
        let contact = try await Lookup.visible(Contact.self, id, scope: scope, table: Contact.scopeTable, what: what, on: db)
        guard contact.siteId != nil else { throw TandemError.notFound(what) }
        return contact
    }

    @Sendable static func list(_ req: Request) async throws -> ListPage<ClientProfileDTO> {
        var query = Contact.query(on: req.db).filter(try scope(req, .view), on: Contact.scopeTable).filter(\.$siteId != nil)
        if let text = req.queryText("siteId") {
            guard let id = UUID(uuidString: text) else { throw TandemError.invalid("siteId", "'\(text)' is not a valid id") }
            query = query.filter(\.$siteId == id)
        }
        let (items, next) = try await query.page(PageRequest(req))
        return ListPage(items: items.map(ClientProfileDTO.init), nextCursor: next)
    }

    @Sendable static func create(_ req: Request) async throws -> Response {
        let contact = try await create(try req.content.decode(ClientProfileInput.self), by: req.principal, on: req.db)
        return try await ClientProfileDTO(contact).encodeResponse(status: .created, for: req)
    }

    @Sendable static func update(_ req: Request) async throws -> ClientProfileDTO {
        let contact = try await visible(req)
        try await update(contact, try req.content.decode(ClientProfileInput.self), by: req.principal, on: req.db)
        return ClientProfileDTO(contact)
    }

    @Sendable static func delete(_ req: Request) async throws -> HTTPStatus {
        try await delete(try await visible(req), by: req.principal, on: req.db)
        return .noContent
    }

    // MARK: One profile (API and pages)

    static func create(_ input: ClientProfileInput, by principal: Principal, on db: any Database) async throws -> Contact {
        var validator = FieldValidator()
        let siteId = validator.id(input.siteId.value, "siteId")
        let profile = validate(input.draft(over: nil, &validator), &validator)
        try validator.check()
        let site: Site, transfer: ProfileTransfer
        do {
            (site, transfer) = try await ProfileTransferService.site(siteId!, for: principal, on: db)
        } catch TandemError.notFound {
            throw TandemError.invalid("siteId", "no site with this id")
        }
        guard transfer.importRights.add else { throw TandemError.forbidden("your security level does not allow adding client profiles") }
        let contact = Contact()
        contact.id = .v7()
        contact.organizationId = site.organizationId
        contact.siteId = site.id
        contact.portalOrganizationWide = false
        contact.apply(profile!)
        try await db.write { db in
            try await contact.create(on: db)
            try await PhoneDirectory.index(contact, on: db)
            try await Audit.record(
                "created", Contact.schema, id: contact.id, by: principal, organizationId: contact.organizationId, after: ClientProfileDTO(contact), on: db)
        }
        return contact
    }

    static func update(_ contact: Contact, _ input: ClientProfileInput, by principal: Principal, on db: any Database) async throws {
        let scope = AccessPolicy.organizationScope(for: principal, area: .contacts, .edit)
        try await Lookup.require(contact, in: scope, table: Contact.scopeTable, "your security level does not allow changing client profiles", on: db)
        let before = ClientProfileDTO(contact)
        var validator = FieldValidator()
        if let text = input.siteId.value, text.lowercased() != contact.siteId!.uuidString.lowercased() {
            validator.fail("siteId", "a client profile cannot move to another site; export it and import it there")
        }
        let profile = validate(input.draft(over: contact.clientProfile, &validator), &validator)
        try validator.check()
        let loginEmailChanged = contact.portalPasswordHash != nil && profile!.email?.lowercased() != contact.email?.lowercased()
        if loginEmailChanged { try AccessPolicy.authorizeCredentialChange(principal, .loginName) }
        contact.apply(profile!)
        try await db.write { db in
            try await contact.save(on: db)
            try await PhoneDirectory.index(contact, on: db)
            try await Audit.record(
                "updated", Contact.schema, id: contact.id, by: principal, organizationId: contact.organizationId, before: before,
                after: ClientProfileDTO(contact), on: db)
            if loginEmailChanged { try await Sessions.end(of: contact.id!, on: db) }
        }
    }

    static func delete(_ contact: Contact, by principal: Principal, on db: any Database) async throws {
        let scope = AccessPolicy.organizationScope(for: principal, area: .contacts, .delete)
        try await Lookup.require(contact, in: scope, table: Contact.scopeTable, "your security level does not allow deleting client profiles", on: db)
        try await CRUD.delete(ContactsCollection.self, contact, by: principal, before: ClientProfileDTO(contact), on: db)
    }

    /// The shared rules; their problems become the API's field errors.
    static func validate(_ draft: ProfileDraft, _ validator: inout FieldValidator) -> ClientProfile? {
        switch ProfileRules.validate(draft) {
        case .success(let profile): return profile
        case .failure(let errors):
            for problem in errors.problems { validator.fail(problem.fieldName, problem.message) }
            return nil
        }
    }

    // MARK: Bulk

    @Sendable static func template(_ req: Request) async throws -> Response {
        _ = try req.principal
        return try await download(req, site: nil)
    }

    @Sendable static func export(_ req: Request) async throws -> Response {
        let (site, transfer) = try await ProfileTransferService.site(req.id("id", "site"), for: req.principal, on: req.db)
        try transfer.authorizeExport()
        return try await download(req, site: site)
    }

    /// Writes the file (`?format=`, CSV by default) to disk, then streams it and removes it.
    static func download(_ req: Request, site: Site?) async throws -> Response {
        let format = try TableFormat.from(parameter: req.queryText("format") ?? "csv", contentType: nil)
        let url = ProfileTransferService.temporaryFile(format)
        do {
            try await ProfileTransferService.export(site: site, format: format, to: url, on: req.db)
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
        let hold = req.application.inFlightRequests.hold()
        let response = try await req.fileio.asyncStreamFile(at: url.path, mediaType: format.mediaType) { _ in
            try? FileManager.default.removeItem(at: url)
            hold.release()
        }
        response.headers.setAttachment(filename: ProfileTransferService.fileName(site: site, format: format))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    /// Imports the body and answers the report; with `Prefer: respond-async` (RFC 7240), stores the body, queues
    /// an import job for the background workers and answers 202 with the job (`ImportJobs`).
    @Sendable static func importFile(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let (site, transfer) = try await ProfileTransferService.importableSite(req.id("id", "site"), for: principal, on: req.db)
        let format = try TableFormat.from(parameter: req.queryText("format"), contentType: req.headers.contentType)
        let dryRun = try flag(req, "dryRun")
        if ImportJobs.prefersAsync(req.headers) {
            let job = try await ImportJobs.submit(
                req.body, limit: maxImportBytes, site: site, format: format, dryRun: dryRun, by: principal, blobs: req.settings.blobs, on: req.db)
            let response = try await ImportJobDTO(job).encodeResponse(status: .accepted, for: req)
            response.headers.replaceOrAdd(name: .location, value: ImportJobs.path(job))
            response.headers.replaceOrAdd(name: "Preference-Applied", value: "respond-async")
            return response
        }
        let url = ProfileTransferService.temporaryFile(format)
        defer { try? FileManager.default.removeItem(at: url) }
        try await req.spoolBody(to: url, limit: maxImportBytes)
        let report = try await ProfileTransferService.importFile(
            at: url, format: format, site: site, rights: transfer.importRights, by: principal, dryRun: dryRun, on: req.db)
        return try await report.encodeResponse(for: req)
    }

    static func flag(_ req: Request, _ name: String) throws -> Bool {
        switch req.queryText(name)?.lowercased() {
        case nil, "false", "0", "no": return false
        case "true", "1", "yes", "": return true
        case let other?: throw TandemError.invalid(name, "'\(other)' is not true or false")
        }
    }
}

extension ProfileImportReport: Content {}
