import Fluent
import Foundation
import TandemCore
import Vapor

/// `/sites/:id/network`: the site's network information, read by whoever sees the site and edited by
/// whoever may change it. The lists are edited as text, one entry per line with its parts between `|`
/// (no JavaScript needed); saving goes through the API's function (`SiteNetworkAPI.save`), and a problem
/// is shown beside its section with the line it is on.
enum SiteNetworkPage {
    static let view = "documentation/network"

    struct Model: Encodable, Sendable {
        var layout: PageLayout
        var siteName: String
        var siteURL: String
        var action: String
        var readOnly: Bool
        var form: Form
        var network: SiteNetworkDTO
        var credentials: [SelectOption]?
        var notice: String?
        var feedback: FormFeedback?
    }

    /// The form as posted (and as shown again when refused); a field not posted is empty.
    struct Form: Content {
        var printers = ""
        var networkDrives = ""
        var emailProvider = ""
        var emailAdminPortalURL = ""
        var emailCredentialId = ""
        var remoteAccess = ""
        var applications = ""
        var activeDirectoryServer = ""
        var activeDirectoryDomain = ""
        var backupServer = ""
        var backupAddress = ""
        var backupCredentialId = ""

        init(
            printers: String = "", networkDrives: String = "", emailProvider: String = "", emailAdminPortalURL: String = "",
            emailCredentialId: String = "", remoteAccess: String = "", applications: String = "", activeDirectoryServer: String = "",
            activeDirectoryDomain: String = "", backupServer: String = "", backupAddress: String = "", backupCredentialId: String = ""
        ) {
            (self.printers, self.networkDrives, self.emailProvider, self.emailAdminPortalURL) = (printers, networkDrives, emailProvider, emailAdminPortalURL)
            (self.emailCredentialId, self.remoteAccess, self.applications) = (emailCredentialId, remoteAccess, applications)
            (self.activeDirectoryServer, self.activeDirectoryDomain) = (activeDirectoryServer, activeDirectoryDomain)
            (self.backupServer, self.backupAddress, self.backupCredentialId) = (backupServer, backupAddress, backupCredentialId)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func text(_ key: CodingKeys) throws -> String { try c.decodeIfPresent(String.self, forKey: key) ?? "" }
            self.init(
                printers: try text(.printers), networkDrives: try text(.networkDrives), emailProvider: try text(.emailProvider),
                emailAdminPortalURL: try text(.emailAdminPortalURL), emailCredentialId: try text(.emailCredentialId), remoteAccess: try text(.remoteAccess),
                applications: try text(.applications), activeDirectoryServer: try text(.activeDirectoryServer),
                activeDirectoryDomain: try text(.activeDirectoryDomain), backupServer: try text(.backupServer), backupAddress: try text(.backupAddress),
                backupCredentialId: try text(.backupCredentialId))
        }
    }

    static func register(_ routes: any RoutesBuilder) {
        routes.get(PageRoutes.siteNetwork.pathComponents, use: show)
        routes.post(PageRoutes.siteNetwork.pathComponents, use: save)
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let site = try await SiteDocumentation.site(req)
        let network = try await StoredSiteNetwork.of(site.id!, on: req.db)
        let notice = req.queryText("notice") == "saved" ? "The network information was saved." : nil
        return try await render(req, site: site, form: form(network), network: network, notice: notice)
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let site = try await SiteDocumentation.site(req)
        // Refused before the form is read, as the API's PUT is.
        try SiteDocumentation.authorize(.edit, site, by: req.principal)
        let form = try req.content.decode(Form.self)
        do {
            _ = try await SiteNetworkAPI.save(site, try network(form), by: req.principal, on: req.db)
            return req.seeOther(PageURL.with(PageRoutes.siteNetwork.url(site.id!), query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            return try await render(
                req, site: site, form: form, network: try await StoredSiteNetwork.of(site.id!, on: req.db), feedback: feedback(error),
                status: error.pageStatus)
        }
    }

    static func render(
        _ req: Request, site: Site, form: Form, network: SiteNetwork, notice: String? = nil, feedback: FormFeedback? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let principal = try req.principal
        let readOnly = !SiteDocumentation.allows(.edit, site, by: principal)
        // The vault's entries are offered by name to those who may list them.
        var credentials: [SelectOption]?
        if !readOnly, AccessPolicy.vaultScope(for: principal, .view) != .none {
            credentials = try await SiteCredential.query(on: req.db).filter(\.$siteId == site.id!)
                .filter(AccessPolicy.vaultScope(for: principal, .view), on: SiteCredential.scopeTable).sort(\.$name).all()
                .map { SelectOption(value: $0.id!.uuidString, label: $0.name, selected: false) }
        }
        let model = Model(
            layout: req.pageLayout("Network information · \(site.name)", section: "organizations"), siteName: site.name,
            siteURL: PageRoutes.site.url(site.id!), action: PageRoutes.siteNetwork.url(site.id!), readOnly: readOnly, form: form,
            network: SiteNetworkDTO(siteId: site.id!, network: network), credentials: credentials, notice: notice, feedback: feedback)
        return try await req.renderPage(view, model, status: status)
    }

    // MARK: Text ↔ document

    static func line(_ parts: [String?]) -> String {
        var parts = parts.map { $0 ?? "" }
        while parts.count > 1, parts.last == "" { parts.removeLast() }
        return parts.joined(separator: " | ")
    }

    static func form(_ network: SiteNetwork) -> Form {
        Form(
            printers: network.printers.map { line([$0.type, $0.name, $0.model, $0.ipAddress]) }.joined(separator: "\n"),
            networkDrives: network.networkDrives.map { line([$0.name, $0.path]) }.joined(separator: "\n"),
            emailProvider: network.email?.provider ?? "", emailAdminPortalURL: network.email?.adminPortalURL ?? "",
            emailCredentialId: network.email?.credentialId?.uuidString ?? "",
            remoteAccess: network.remoteAccess.map { line([$0.kind.rawValue, $0.address, $0.setupGuide]) }.joined(separator: "\n"),
            applications: network.applications.map { line([$0.name, $0.notes]) }.joined(separator: "\n"),
            activeDirectoryServer: network.activeDirectory?.serverName ?? "", activeDirectoryDomain: network.activeDirectory?.domain ?? "",
            backupServer: network.backup?.server ?? "", backupAddress: network.backup?.address ?? "",
            backupCredentialId: network.backup?.credentialId?.uuidString ?? "")
    }

    /// The lines of a list, each split at `|` into its trimmed parts; blank lines are skipped.
    static func rows(_ text: String) -> [[String]] {
        text.split(whereSeparator: \.isNewline).map { $0.split(separator: "|", omittingEmptySubsequences: false).map { Whitespace.trim(String($0)) } }
            .filter { !$0.allSatisfy(\.isEmpty) }
    }

    static func network(_ form: Form) throws -> SiteNetwork {
        func part(_ parts: [String], _ index: Int) -> String? { index < parts.count && !parts[index].isEmpty ? parts[index] : nil }
        func id(_ text: String, _ field: String) throws -> UUID? {
            guard !text.isEmpty else { return nil }
            guard let id = UUID(uuidString: text) else { throw TandemError.invalid(field, "is not a credential of this site") }
            return id
        }
        var network = SiteNetwork()
        network.printers = rows(form.printers).map {
            SiteNetwork.Printer(type: part($0, 0), name: part($0, 1) ?? "", model: part($0, 2), ipAddress: part($0, 3))
        }
        network.networkDrives = rows(form.networkDrives).map { SiteNetwork.NetworkDrive(name: part($0, 0) ?? "", path: part($0, 1) ?? "") }
        for (index, parts) in rows(form.remoteAccess).enumerated() {
            guard let kind = SiteNetwork.RemoteAccess.Kind(rawValue: (part(parts, 0) ?? "").lowercased()) else {
                throw TandemError.invalid("remoteAccess[\(index)].kind", "starts with vpn, rdp or other")
            }
            network.remoteAccess.append(SiteNetwork.RemoteAccess(kind: kind, address: part(parts, 1) ?? "", setupGuide: part(parts, 2)))
        }
        network.applications = rows(form.applications).map { SiteNetwork.Application(name: part($0, 0) ?? "", notes: part($0, 1)) }
        if !form.emailProvider.isEmpty || !form.emailAdminPortalURL.isEmpty || !form.emailCredentialId.isEmpty {
            network.email = SiteNetwork.Email(
                provider: form.emailProvider, adminPortalURL: form.emailAdminPortalURL, credentialId: try id(form.emailCredentialId, "email.credentialId"))
        }
        if !form.activeDirectoryServer.isEmpty || !form.activeDirectoryDomain.isEmpty {
            network.activeDirectory = SiteNetwork.ActiveDirectory(serverName: form.activeDirectoryServer, domain: form.activeDirectoryDomain)
        }
        if !form.backupServer.isEmpty || !form.backupAddress.isEmpty || !form.backupCredentialId.isEmpty {
            network.backup = SiteNetwork.Backup(
                server: form.backupServer, address: form.backupAddress, credentialId: try id(form.backupCredentialId, "backup.credentialId"))
        }
        return network
    }

    /// The API's field names (`printers[2].ipAddress`) as the form's: the section, with the line and the part.
    static func feedback(_ error: TandemError) -> FormFeedback {
        guard case .validation(let problems) = error else { return FormFeedback(error) }
        var fields: [String: String] = [:]
        var summary: [String] = []
        for problem in problems {
            var field = problem.field
            var message = problem.message
            if let open = field.firstIndex(of: "["), let close = field.firstIndex(of: "]"), let index = Int(field[field.index(after: open)..<close]) {
                let part = field[field.index(after: close)...].drop { $0 == "." }
                message = "line \(index + 1), \(part): \(message)"
                field = String(field[..<open])
            } else {
                field = field.replacingOccurrences(of: ".", with: "_")
            }
            fields[field] = fields[field].map { "\($0); \(message)" } ?? message
            summary.append("\(field): \(message)")
        }
        return FormFeedback(summary: summary, fields: fields)
    }
}
