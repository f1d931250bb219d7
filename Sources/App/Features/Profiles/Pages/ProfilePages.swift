import Fluent
import Foundation
import Spreadsheets
import TandemCore
import Vapor

/// `/sites/:id/profiles`: a site's client profiles, one-at-a-time forms, export and import with progress.
enum ProfilePages {
    static func register(_ session: any RoutesBuilder) {
        session.get(PageRoutes.siteProfiles.pathComponents, use: list)
        session.get(PageRoutes.newSiteProfile.pathComponents, use: newForm)
        session.post(PageRoutes.newSiteProfile.pathComponents, use: create)
        // The API's handlers: the same policy check and file, behind the page session.
        session.get(PageRoutes.siteProfilesExport.pathComponents, use: ClientProfilesAPI.export)
        session.on(.POST, PageRoutes.siteProfilesImport.pathComponents, body: .collect(maxSize: "64mb"), use: importFile).uploadForm(maxBytes: 64 << 20)
        session.get(PageRoutes.profileTemplate.pathComponents, use: ClientProfilesAPI.template)
        session.get(PageRoutes.profile.pathComponents, use: editForm)
        session.post(PageRoutes.profile.pathComponents, use: update)
        session.post(PageRoutes.profileDelete.pathComponents, use: delete)
    }

    static func listURL(_ siteId: UUID) -> String { PageRoutes.siteProfiles.url(siteId) }

    // MARK: List

    struct ListModel: Encodable, Sendable {
        struct Row: Encodable, Sendable {
            var url: String
            var name: String
            var email: String?
            var phones: [String]
            var sms: String?
            var thinClient: Bool
        }

        var layout: PageLayout
        var site: PageLink
        var organization: String
        var rows: [Row]
        var nextURL: String?
        var newURL: String?
        var canExport: Bool
        var canImport: Bool
        var exportURL: String
        var importURL: String
        var notice: String?
    }

    @Sendable static func list(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let (site, transfer) = try await ProfileTransferService.site(try req.id("id", "site"), for: principal, on: req.db)
        var query = Contact.query(on: req.db).filter(\.$siteId == site.id!)
            .filter(AccessPolicy.organizationScope(for: principal, area: .contacts, .view), on: Contact.scopeTable)
        if let after = req.queryText("after").flatMap(UUID.init(uuidString:)) { query = query.filter(\.$id > after) }
        let pageSize = 100
        let contacts = try await query.sort(\.$id).limit(pageSize + 1).all()
        let organization = try await Organization.find(site.organizationId, on: req.db)
        var layout = req.pageLayout("Client profiles", section: "organizations")
        layout.title = "Client profiles · \(site.name)"
        let rows = contacts.prefix(pageSize).map { contact in
            let profile = contact.clientProfile
            return ListModel.Row(
                url: PageRoutes.profile.url(contact.id!), name: contact.fullName, email: profile.email,
                phones: profile.phones.map { "\($0.kind.rawValue.capitalized) \($0.number) (\($0.countryCode))" },
                sms: [profile.mobileProvider, profile.smsGateway].compactMap { $0 }.joined(separator: " ").nilIfEmpty,
                thinClient: profile.thinClient)
        }
        let notices = ["created": "The profile was added.", "deleted": "The profile was deleted.", "saved": "The profile was saved."]
        let model = ListModel(
            layout: layout, site: PageLink(name: site.name, url: PageURL.site(site.id!).path), organization: organization?.name ?? "",
            rows: Array(rows),
            nextURL: contacts.count > pageSize ? PageURL.with(listURL(site.id!), query: [("after", contacts[pageSize - 1].id!.uuidString)]) : nil,
            newURL: transfer.importRights.add ? listURL(site.id!) + "/new" : nil,
            canExport: transfer.export, canImport: transfer.export && transfer.canImport,
            exportURL: listURL(site.id!) + "/export", importURL: listURL(site.id!) + "/import",
            notice: req.queryText("notice").flatMap { notices[$0] })
        return try await req.renderPage("profiles/list", model)
    }

    // MARK: One profile

    /// The form's fields, all text, as the browser sends them.
    struct Form: Content {
        var firstName = ""
        var lastName = ""
        var email = ""
        var officePhone = "", officePhoneCountry = ""
        var mobilePhone = "", mobilePhoneCountry = ""
        var homePhone = "", homePhoneCountry = ""
        var otherPhone = "", otherPhoneCountry = ""
        var mobileProvider = ""
        var smsGateway = ""
        var thinClient: String?
        var notes = ""

        init() {}

        init(_ profile: ClientProfile) {
            firstName = profile.firstName
            lastName = profile.lastName
            email = profile.email ?? ""
            officePhone = profile.phone(.office)?.number ?? ""; officePhoneCountry = profile.phone(.office)?.countryCode ?? ""
            mobilePhone = profile.phone(.mobile)?.number ?? ""; mobilePhoneCountry = profile.phone(.mobile)?.countryCode ?? ""
            homePhone = profile.phone(.home)?.number ?? ""; homePhoneCountry = profile.phone(.home)?.countryCode ?? ""
            otherPhone = profile.phone(.other)?.number ?? ""; otherPhoneCountry = profile.phone(.other)?.countryCode ?? ""
            mobileProvider = profile.mobileProvider ?? ""
            smsGateway = profile.smsGateway ?? ""
            thinClient = profile.thinClient ? "on" : nil
            notes = profile.notes ?? ""
        }

        var phoneFields: [(PhoneKind, String, String)] {
            [
                (.office, officePhone, officePhoneCountry), (.mobile, mobilePhone, mobilePhoneCountry),
                (.home, homePhone, homePhoneCountry), (.other, otherPhone, otherPhoneCountry),
            ]
        }

        /// The API body this form means; an empty text clears the field, as a spreadsheet cell does.
        func input(siteId: UUID?) -> (ClientProfileInput, phoneKinds: [PhoneKind]) {
            var input = ClientProfileInput()
            input.siteId = siteId.map { .value($0.uuidString) } ?? .absent
            input.firstName = .value(firstName)
            input.lastName = .value(lastName)
            input.email = .value(email)
            let phones = phoneFields.filter { !$0.1.isEmpty || !$0.2.isEmpty }
            input.phones = .value(phones.map { PhoneInput(number: $0.1, countryCode: $0.2, kind: $0.0.rawValue) })
            input.mobileProvider = .value(mobileProvider)
            input.smsGateway = .value(smsGateway)
            input.thinClient = .value(thinClient != nil)
            input.notes = .value(notes)
            return (input, phones.map(\.0))
        }
    }

    struct FormModel: Encodable, Sendable {
        var layout: PageLayout
        var site: PageLink
        var backURL: String
        var action: String
        var form: Form
        var phones: [PhoneRow]
        var feedback: FormFeedback?
        var deleteURL: String?
        var readOnly: Bool
    }

    struct PhoneRow: Encodable, Sendable {
        var kind: String
        var label: String
        var number: String
        var country: String
        var numberError: String?
        var countryError: String?
    }

    static func render(_ req: Request, site: Site, contact: Contact?, form: Form, error: TandemError? = nil, phoneKinds: [PhoneKind] = []) async throws
        -> Response
    {
        let principal = try req.principal
        let transfer = AccessPolicy.profileTransfer(for: principal, organizationId: site.organizationId)
        var feedback = error.map(FormFeedback.init)
        // "phones[1].number" → the form's "mobilePhone" field.
        if var fields = feedback?.fields {
            for (index, kind) in phoneKinds.enumerated() {
                if let message = fields.removeValue(forKey: "phones[\(index)].number") { fields["\(kind.rawValue)Phone"] = message }
                if let message = fields.removeValue(forKey: "phones[\(index)].countryCode") { fields["\(kind.rawValue)PhoneCountry"] = message }
            }
            feedback?.fields = fields
        }
        let values = form.phoneFields
        let phones = values.map { kind, number, country in
            PhoneRow(
                kind: kind.rawValue, label: kind.rawValue.capitalized, number: number, country: country,
                numberError: feedback?.fields["\(kind.rawValue)Phone"], countryError: feedback?.fields["\(kind.rawValue)PhoneCountry"])
        }
        let canEdit = contact == nil ? transfer.importRights.add : transfer.importRights.edit
        var layout = req.pageLayout(contact == nil ? "New client profile" : contact!.fullName, section: "organizations")
        layout.title = contact == nil ? "New client profile · \(site.name)" : "\(contact!.fullName) · \(site.name)"
        let model = FormModel(
            layout: layout, site: PageLink(name: site.name, url: PageURL.site(site.id!).path), backURL: listURL(site.id!),
            action: contact.map { PageRoutes.profile.url($0.id!) } ?? PageRoutes.newSiteProfile.url(site.id!), form: form, phones: phones, feedback: feedback,
            deleteURL: contact != nil && transfer.importRights.delete ? PageRoutes.profileDelete.url(contact!.id!) : nil,
            readOnly: !canEdit)
        return try await req.renderPage("profiles/form", model, status: error?.pageStatus ?? .ok)
    }

    @Sendable static func newForm(_ req: Request) async throws -> Response {
        let (site, transfer) = try await ProfileTransferService.site(try req.id("id", "site"), for: req.principal, on: req.db)
        guard transfer.importRights.add else { throw TandemError.forbidden("your security level does not allow adding client profiles") }
        var form = Form()
        form.officePhoneCountry = site.country
        return try await render(req, site: site, contact: nil, form: form)
    }

    @Sendable static func create(_ req: Request) async throws -> Response {
        let siteId = try req.id("id", "site")
        let form = try req.content.decode(Form.self)
        let (input, kinds) = form.input(siteId: siteId)
        do {
            _ = try await ClientProfilesAPI.create(input, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(listURL(siteId), query: [("notice", "created")]))
        } catch let error as TandemError where error.isFormProblem {
            let (site, _) = try await ProfileTransferService.site(siteId, for: req.principal, on: req.db)
            return try await render(req, site: site, contact: nil, form: form, error: error, phoneKinds: kinds)
        }
    }

    @Sendable static func editForm(_ req: Request) async throws -> Response {
        let contact = try await ClientProfilesAPI.visible(try req.id("id", "client profile"), by: req.principal, on: req.db)
        let (site, _) = try await ProfileTransferService.site(contact.siteId!, for: req.principal, on: req.db)
        return try await render(req, site: site, contact: contact, form: Form(contact.clientProfile))
    }

    @Sendable static func update(_ req: Request) async throws -> Response {
        let contact = try await ClientProfilesAPI.visible(try req.id("id", "client profile"), by: req.principal, on: req.db)
        let form = try req.content.decode(Form.self)
        let (input, kinds) = form.input(siteId: nil)
        do {
            try await ClientProfilesAPI.update(contact, input, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(listURL(contact.siteId!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            let (site, _) = try await ProfileTransferService.site(contact.siteId!, for: req.principal, on: req.db)
            return try await render(req, site: site, contact: contact, form: form, error: error, phoneKinds: kinds)
        }
    }

    @Sendable static func delete(_ req: Request) async throws -> Response {
        let contact = try await ClientProfilesAPI.visible(try req.id("id", "client profile"), by: req.principal, on: req.db)
        do {
            try await ClientProfilesAPI.delete(contact, by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(listURL(contact.siteId!), query: [("notice", "deleted")]))
        } catch let error as TandemError where error.isFormProblem {
            let (site, _) = try await ProfileTransferService.site(contact.siteId!, for: req.principal, on: req.db)
            return try await render(req, site: site, contact: contact, form: Form(contact.clientProfile), error: error)
        }
    }

    // MARK: Export and import

    struct ImportForm: Content {
        var file: File?
        var dryRun: String?
    }

    struct ImportModel: Encodable, Sendable {
        var layout: PageLayout
        var site: PageLink
        var backURL: String
        var fileName: String
        var dryRun: Bool
    }

    struct ReportModel: Encodable, Sendable {
        var report: ProfileImportReport?
        var refused: String?
        var failures: [ProfileRowError]
        var moreFailures: Int
        var backURL: String
    }

    /// The page streams as the import runs: the top of the page, a progress line per batch, then the report.
    /// Plain HTML: the browser paints each part as it arrives, so the progress shows without JavaScript.
    @Sendable static func importFile(_ req: Request) async throws -> Response {
        let principal = try req.principal
        let (site, transfer) = try await ProfileTransferService.site(try req.id("id", "site"), for: principal, on: req.db)
        try transfer.authorizeImport()
        let form = try req.content.decode(ImportForm.self)
        guard let file = form.file, file.data.readableBytes > 0 else { throw TandemError.invalid("file", "choose a CSV or XLSX file to import") }
        let format = try TableFormat(rawValue: file.extension?.lowercased() ?? "") ?? TableFormat.from(parameter: nil, contentType: file.contentType)
        let url = ProfileTransferService.temporaryFile(format)
        FileManager.default.createFile(atPath: url.path, contents: Data(buffer: file.data))
        let dryRun = form.dryRun != nil
        var layout = req.pageLayout("Import client profiles", section: "organizations")
        layout.title = "Import · \(site.name)"
        let back = listURL(site.id!)
        let shell = String(
            buffer: try await req.view.render(
                "profiles/import",
                ImportModel(
                    layout: layout, site: PageLink(name: site.name, url: PageURL.site(site.id!).path), backURL: back, fileName: file.filename, dryRun: dryRun)
            ).data)
        let marker = "<!--progress-->"
        let parts = shell.components(separatedBy: marker)
        let (head, tail) = (parts[0], parts.dropFirst().joined(separator: marker))
        let db = req.db, rights = transfer.importRights

        let response = Response(
            status: .ok,
            body: req.application.inFlightRequests.streamed { writer in
                defer { try? FileManager.default.removeItem(at: url) }
                try await writer.writeBuffer(ByteBuffer(string: head))
                var model = ReportModel(report: nil, refused: nil, failures: [], moreFailures: 0, backURL: back)
                do {
                    let report = try await ProfileTransferService.importFile(
                        at: url, format: format, site: site, rights: rights, by: principal, dryRun: dryRun, on: db
                    ) { fraction, report in
                        let percent = Int((fraction * 100).rounded())
                        let line =
                            "<p class=\"import-step\"><progress max=\"100\" value=\"\(percent)\">\(percent)%</progress> \(percent)% · \(report.rows) rows read</p>\n"
                        try? await writer.writeBuffer(ByteBuffer(string: line))
                    }
                    model.report = report
                    model.failures = Array(report.failures.prefix(1000))
                    model.moreFailures = max(0, report.failures.count - 1000)
                } catch let error as TandemError {
                    model.refused = PageErrors.describe(error).message
                    if case .validation(let errors) = error { model.refused = errors.map(\.message).joined(separator: "; ") }
                }
                try await writer.writeBuffer(try await req.view.render("profiles/import-report", model).data)
                try await writer.writeBuffer(ByteBuffer(string: tail))
            })
        response.headers.contentType = .html
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
