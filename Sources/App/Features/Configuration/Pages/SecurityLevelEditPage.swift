import Fluent
import Foundation
import TandemCore
import Vapor

/// `/admin/security-levels/{id}/edit`: a custom level's name and permissions (ticket scope, each
/// area's access, the administrative permissions, saved filters), saved through the API's update:
/// system levels are refused there, a co-managed level never holds an administrative permission,
/// and nobody grants more than they hold.
enum SecurityLevelEditPage {
    struct Form: Decodable, Sendable {
        var name: String?
        var ticketScope: String?
        var admin: [String]?
        var savedFilters: [String]?
    }

    @Sendable static func show(_ req: Request) async throws -> Response {
        let (layout, tabs) = try begin(req)
        let level = try await find(req)
        try await SecurityLevelsCollection.authorize(.edit, level, by: req.principal, on: req.db)
        let permissions = level.permissions
        let form = Form(
            name: level.name, ticketScope: permissions.ticketScope.rawValue, admin: permissions.admin.map(\.rawValue),
            savedFilters: permissions.savedFilters ? ["on"] : [])
        return try await req.renderPage(
            ConfigurationPages.formView, model(level, form: form, areas: permissions.areas, layout: layout, tabs: tabs, feedback: nil))
    }

    @Sendable static func save(_ req: Request) async throws -> Response {
        let (layout, tabs) = try begin(req)
        let level = try await find(req)
        let form = try req.content.decode(Form.self)
        var areas: [Area: AccessLevel] = [:]
        var validator = FieldValidator()
        for area in Area.allCases {
            let text = (try? req.content.get(String.self, at: "area-\(area.rawValue)")) ?? AccessLevel.none.rawValue
            if let access = AccessLevel(rawValue: text) {
                areas[area] = access
            } else {
                validator.fail("area-\(area.rawValue)", "'\(text)' is no access level")
            }
        }
        let scope = TicketScope(rawValue: form.ticketScope ?? "")
        if scope == nil { validator.fail("ticketScope", "choose a ticket scope") }
        var admin: Set<AdminPermission> = []
        for text in form.admin ?? [] {
            if let permission = AdminPermission(rawValue: text) {
                admin.insert(permission)
            } else {
                validator.fail("permissions.admin", "'\(text)' is no permission")
            }
        }
        do {
            try validator.check()
            var input = SecurityLevelInput()
            input.name = .value(form.name ?? "")
            input.permissions = .value(
                Permissions(ticketScope: scope ?? .none, areas: areas, admin: admin, savedFilters: !(form.savedFilters ?? []).isEmpty))
            try await CRUD.update(SecurityLevelsCollection.self, level, { input }, req)
            return req.seeOther(PageURL.with(PageURL.securityLevel(level.id!).path, query: [("notice", "saved")]))
        } catch let error as TandemError where error.isFormProblem {
            let stored = try await find(req)
            return try await req.renderPage(
                ConfigurationPages.formView, model(stored, form: form, areas: areas, layout: layout, tabs: tabs, feedback: FormFeedback(error)),
                status: error.pageStatus)
        }
    }

    private static func begin(_ req: Request) throws -> (PageLayout, [AdminPages.Tab]) {
        let (_, layout, tabs) = try AdminPages.begin(req, "Edit security level", tab: "levels", needs: .configureSecurityLevels)
        return (layout, tabs)
    }

    private static func find(_ req: Request) async throws -> SecurityLevel {
        guard let level = try await SecurityLevel.find(try req.id("id", "security level"), on: req.db) else { throw TandemError.notFound("security level") }
        return level
    }

    static func model(
        _ level: SecurityLevel, form: Form, areas: [Area: AccessLevel], layout: PageLayout, tabs: [AdminPages.Tab], feedback: FormFeedback?
    ) -> ConfigurationPages.FormModel {
        let errors = feedback?.fields ?? [:]
        var fields = [
            ConfigurationPages.Field(name: "name", label: "Name", value: form.name ?? "", error: errors["name"], maxLength: 200),
            ConfigurationPages.Field(
                name: "ticketScope", label: "Ticket scope", kind: "select", error: errors["ticketScope"] ?? errors["permissions.ticketScope"],
                options: TicketScope.allCases.map {
                    SelectOption(value: $0.rawValue, label: SecurityLevelPages.label($0), selected: $0.rawValue == form.ticketScope)
                }),
        ]
        fields += Area.allCases.map { area in
            ConfigurationPages.Field(
                name: "area-\(area.rawValue)", label: SecurityLevelPages.label(area), kind: "select", error: errors["area-\(area.rawValue)"],
                options: AccessLevel.allCases.map {
                    SelectOption(value: $0.rawValue, label: SecurityLevelPages.label($0), selected: $0 == (areas[area] ?? .none))
                })
        }
        if !level.coManaged {
            // A co-managed level can never hold one (`Permissions.validate`): the choices are not offered.
            fields.append(
                ConfigurationPages.Field(
                    name: "admin", label: "Administration", kind: "choices", error: errors["permissions.admin"],
                    choices: AdminPermission.allCases.map {
                        CoManagedSetupPage.Choice(value: $0.rawValue, label: SecurityLevelPages.label($0), checked: (form.admin ?? []).contains($0.rawValue))
                    }))
        }
        fields.append(
            ConfigurationPages.Field(
                name: "savedFilters", label: "Saved filters and shared lists", kind: "choices",
                choices: [
                    CoManagedSetupPage.Choice(value: "on", label: "May create saved filters and shared lists", checked: !(form.savedFilters ?? []).isEmpty)
                ]
            ))
        var layout = layout
        layout.title = "Edit \(level.name)"
        return ConfigurationPages.FormModel(
            layout: layout, tabs: tabs, heading: "Edit \(level.name)", backURL: PageURL.securityLevel(level.id!).path, backLabel: level.name,
            action: PageRoutes.securityLevelEdit.url(level.id!), fields: fields, feedback: feedback, readOnly: false, deleteURL: nil, members: nil,
            notice: nil)
    }
}
