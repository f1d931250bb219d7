import Fluent
import Foundation
import Spreadsheets
import TandemCore
import Testing
import VaporTesting
import ZIPFoundation

@testable import App

/// The standing attack suite, input half: whole classes of hostile input against every path that takes them,
/// not one case each. Adding an endpoint or a text field to the API means adding rows here; the OpenAPI
/// check fails until every documented free-text field of every request body has one.
@Suite("Attack suite: input", .serialized)
struct AttackSuiteInputTests {
    // MARK: Control characters in text fields

    /// What the rows write into: one of everything, made through the API.
    struct World: Sendable {
        var organization = "", site = "", contact = "", resource = "", technicianLevel = "", level = "", queue = "", team = "", role = "", location = ""
        var ticket = "", note = "", timeEntry = "", attachment = "", coManaged = "", coManagedLevel = "", coManagingUser = "", coManagingTeam = ""
        var savedFilter = "", profile = "", device = "", organizationGroup = "", department = "", credential = "", reference = ""
        var blockHourContract = "", expense = ""

        static func make(_ t: TestApp) async throws -> World {
            var w = World()
            w.organization = try await t.organization("Contoso")
            w.site = try await t.site(w.organization, "HQ")
            w.contact = try await t.contact(w.organization, "Pat", email: "pat@contoso.example")
            let tess = try await t.resource("tess")
            w.resource = tess.id
            // A submitted week for the rejection's reason.
            try await t.must(.ok, .POST, "/api/v1/timesheets/submit", ["week": "2026-W10"], as: tess.token)
            w.technicianLevel = try await t.securityLevelId(.technician)
            w.level = try await t.create("/api/v1/security-levels", ["name": "Custom", "copyOf": .string(w.technicianLevel)]).id
            w.queue = try await t.queue("Service desk")
            w.team = try await t.create("/api/v1/teams", ["name": "Network"]).id
            w.role = try await t.role("Engineer")
            w.location = try await t.create("/api/v1/internal-locations", ["name": "NOC", "timeZone": "Europe/Berlin"]).id
            w.department = try await t.create("/api/v1/departments", ["name": "Service desk", "description": "First line"]).id
            w.ticket = try await t.ticket(w.organization, extra: ["siteId": .string(w.site)]).id
            w.blockHourContract = try await t.create(
                "/api/v1/organizations/\(w.organization)/block-hour-contracts",
                ["name": "2020 block", "hoursBought": 10, "startsOn": "2020-01-01", "endsOn": "2020-12-31"]
            ).id
            w.note = try await t.note(w.ticket).id
            w.timeEntry = try await t.create("/api/v1/tickets/\(w.ticket)/time-entries", ["minutes": 30, "summary": "Replaced the cable"]).id
            w.attachment = try await t.create("/api/v1/tickets/\(w.ticket)/attachments", AttackSuiteInputTests.attachmentBody("spooler.log")).id
            try await t.setCoManagement(enabled: true)
            w.coManaged = try await t.coManagedOrganization("Northwind")
            w.coManagedLevel = try await t.securityLevelId(.coManagedHelpDesk)
            w.coManagingUser = try await t.coManagingUser("nina", organizationId: w.coManaged, queueIds: [w.queue]).id
            w.coManagingTeam = try await t.coManagingTeam("Northwind IT", members: [w.coManagingUser])
            w.organizationGroup = try await t.create("/api/v1/organization-groups", ["name": "Holding", "organizationIds": [.string(w.coManaged)]]).id
            w.savedFilter = try await t.create("/api/v1/saved-filters", ["name": "Mine", "query": "status=new"]).id
            w.profile = try await t.profile(w.site, "Ann", "Able").id
            w.device = try await t.create("/api/v1/devices", ["siteId": .string(w.site), "name": "FS01", "type": "server"]).id
            w.credential = try await t.create("/api/v1/sites/\(w.site)/credentials", ["kind": "server", "name": "FS01 admin", "secret": "s3cret"]).id
            w.reference = try await t.create("/api/v1/references", ["siteId": .string(w.site), "title": "Runbook", "body": "# Steps"]).id
            w.expense = try await t.create(
                "/api/v1/expenses",
                ["date": "2025-06-02", "category": "meals", "description": "Lunch", "amount": 12, "organizationId": .string(w.organization)]
            ).id
            return w
        }
    }

    static func attachmentBody(_ filename: String) -> JSON {
        ["filename": .string(filename), "contentType": "text/plain", "content": .string(Data("Spooler restarted.\n".utf8).base64EncodedString())]
    }

    /// One text field of one endpoint: a valid body with `value` in the field (`tag` keeps what must be
    /// unique unique), the field the problem must name, and a valid value to put hostile characters into.
    struct TextField: Sendable, CustomStringConvertible {
        var schema: String
        var property: String
        var method: HTTPMethod
        var path: @Sendable (World) -> String
        var field: String
        var multiline: Bool
        var plain: @Sendable (String) -> String
        var body: @Sendable (World, String, String) -> JSON

        var description: String { "\(method) \(schema).\(property)" }
    }

    typealias Body = @Sendable (World, String, String) -> JSON

    /// A field of a create (POST) body: `base` gives the rest of a valid body.
    static func create(
        _ schema: String, _ path: String, _ property: String, field: String? = nil, multiline: Bool = false,
        plain: @escaping @Sendable (String) -> String = { "Plain \($0)" },
        base: @escaping @Sendable (World, String) -> JSON, set: Body? = nil
    ) -> TextField {
        TextField(
            schema: schema, property: property, method: .POST, path: { _ in path }, field: field ?? property, multiline: multiline, plain: plain,
            body: set ?? { w, value, tag in base(w, tag).merging([property: .string(value)]) })
    }

    /// A field of an update (PATCH) body, alone unless `set` builds it.
    static func update(
        _ schema: String, _ path: @escaping @Sendable (World) -> String, _ property: String, field: String? = nil, multiline: Bool = false,
        plain: @escaping @Sendable (String) -> String = { "Plain \($0)" }, set: Body? = nil
    ) -> TextField {
        TextField(
            schema: schema, property: property, method: .PATCH, path: path, field: field ?? property, multiline: multiline, plain: plain,
            body: set ?? { _, value, _ in [property: .string(value)] })
    }

    static let username: @Sendable (String) -> String = { "user\($0)" }
    static let email: @Sendable (String) -> String = { "\($0)@client.example" }
    static let password: @Sendable (String) -> String = { "long-enough-\($0)" }
    static let country: @Sendable (String) -> String = { _ in "US" }
    static let phone: @Sendable (String) -> String = { _ in "5550100" }
    static let timeZone: @Sendable (String) -> String = { _ in "America/New_York" }

    static func phones(number: String = "5550100", country: String = "US") -> JSON {
        [["number": .string(number), "countryCode": .string(country), "kind": "office"]]
    }

    static func hours(start: String = "09:00", end: String = "17:00") -> JSON {
        [["weekday": 1, "start": .string(start), "end": .string(end)]]
    }

    static let fields: [TextField] = {
        let organization: @Sendable (World, String) -> JSON = { _, tag in ["name": .string("Organization \(tag)")] }
        let site: @Sendable (World, String) -> JSON = { w, tag in ["organizationId": .string(w.organization), "name": .string("Site \(tag)"), "country": "US"] }
        let contact: @Sendable (World, String) -> JSON = { w, tag in
            ["organizationId": .string(w.organization), "firstName": "First", "lastName": "Last", "email": .string("\(tag)@contoso.example")]
        }
        let profile: @Sendable (World, String) -> JSON = { w, tag in
            ["siteId": .string(w.site), "firstName": "First", "lastName": "Last", "email": .string("\(tag)@contoso.example"), "phones": phones()]
        }
        let level: @Sendable (World, String) -> JSON = { w, tag in ["name": .string("Level \(tag)"), "copyOf": .string(w.technicianLevel)] }
        let resource: @Sendable (World, String) -> JSON = { w, tag in
            [
                "username": .string("u\(tag)"), "password": "long-enough-pass", "firstName": "First", "lastName": "Last",
                "email": .string("\(tag)@msp.example"), "securityLevelId": .string(w.technicianLevel),
            ]
        }
        let named: @Sendable (World, String) -> JSON = { _, tag in ["name": .string("Named \(tag)")] }
        let device: @Sendable (World, String) -> JSON = { w, tag in ["siteId": .string(w.site), "name": .string("Device \(tag)")] }
        let role: @Sendable (World, String) -> JSON = { _, tag in ["name": .string("Role \(tag)"), "hourlyRate": 100] }
        let location: @Sendable (World, String) -> JSON = { _, tag in ["name": .string("Location \(tag)"), "timeZone": "Europe/Berlin"] }
        let ticket: @Sendable (World, String) -> JSON = { w, _ in ["organizationId": .string(w.organization), "title": "Printer offline"] }
        let filter: @Sendable (World, String) -> JSON = { _, tag in ["name": .string("Filter \(tag)"), "query": "status=new"] }
        let coManagingUser: @Sendable (World, String) -> JSON = { w, tag in
            [
                "organizationId": .string(w.coManaged), "contact": ["firstName": "First", "lastName": "Last", "email": .string("\(tag)@northwind.example")],
                "username": .string("cm\(tag)"), "password": "long-enough-pass", "securityLevelId": .string(w.coManagedLevel),
                "queueIds": [.string(w.queue)], "confirmLicense": true,
            ]
        }
        let ticketRule: @Sendable (World, String) -> JSON = { _, tag in ["name": .string("Rule \(tag)"), "outcome": ["priority": "high"]] }
        let workflowRule: @Sendable (World, String) -> JSON = { _, tag in
            ["name": .string("Rule \(tag)"), "triggers": ["created"], "actions": ["addNote": ["text": "Checked", "publishTo": "internal"]]]
        }
        let ticketAction: @Sendable (World, String) -> JSON = { _, tag in ["name": .string("Action \(tag)"), "changes": ["priority": "high"]] }
        let webhook: @Sendable (World, String) -> JSON = { _, _ in ["url": "https://hooks.example.com/tandem", "eventTypes": ["ticket.created"]] }
        func newContact(_ property: String, plain: @escaping @Sendable (String) -> String = { "Plain \($0)" }) -> TextField {
            create("NewContactInput", "/api/v1/co-managing-users", property, field: "contact.\(property)", plain: plain, base: coManagingUser) {
                w, value, tag in
                let body = coManagingUser(w, tag)
                return body.merging(["contact": body["contact"].merging([property: .string(value)])])
            }
        }
        /// A phone's number and country, in the first phone of a create body.
        func phoneFields(_ path: String, base: @escaping @Sendable (World, String) -> JSON) -> [TextField] {
            [
                create("PhoneInput", path, "number", field: "phones[0].number", plain: phone, base: base) { w, value, tag in
                    base(w, tag).merging(["phones": phones(number: value)])
                },
                create("PhoneInput", path, "countryCode", field: "phones[0].countryCode", plain: country, base: base) { w, value, tag in
                    base(w, tag).merging(["phones": phones(country: value)])
                },
            ]
        }
        func items(_ kind: String, _ id: @escaping @Sendable (World) -> String) -> @Sendable (World) -> String {
            { w in "/api/v1/tickets/\(w.ticket)/\(kind)/\(id(w))" }
        }

        return [
            create("OrganizationCreate", "/api/v1/organizations", "name", base: organization),
            update("OrganizationUpdate", { "/api/v1/organizations/\($0.organization)" }, "name"),

            create("SiteCreate", "/api/v1/sites", "name", base: site),
            create("SiteCreate", "/api/v1/sites", "country", plain: country, base: site),
            create("SiteCreate", "/api/v1/sites", "address", multiline: true, base: site),
            update("SiteUpdate", { "/api/v1/sites/\($0.site)" }, "name"),
            update("SiteUpdate", { "/api/v1/sites/\($0.site)" }, "country", plain: country),
            update("SiteUpdate", { "/api/v1/sites/\($0.site)" }, "address", multiline: true),

            create("ContactCreate", "/api/v1/contacts", "firstName", base: contact),
            create("ContactCreate", "/api/v1/contacts", "lastName", base: contact),
            create("ContactCreate", "/api/v1/contacts", "email", plain: email, base: contact),
            create("ContactCreate", "/api/v1/contacts", "password", plain: password, base: contact),
            update("ContactUpdate", { "/api/v1/contacts/\($0.contact)" }, "firstName"),
            update("ContactUpdate", { "/api/v1/contacts/\($0.contact)" }, "lastName"),
            update("ContactUpdate", { "/api/v1/contacts/\($0.contact)" }, "email", plain: email),
            update("ContactUpdate", { "/api/v1/contacts/\($0.contact)" }, "password", plain: password),

            create("ClientProfileCreate", "/api/v1/client-profiles", "firstName", base: profile),
            create("ClientProfileCreate", "/api/v1/client-profiles", "lastName", base: profile),
            create("ClientProfileCreate", "/api/v1/client-profiles", "email", plain: email, base: profile),
            create("ClientProfileCreate", "/api/v1/client-profiles", "mobileProvider", base: profile),
            create("ClientProfileCreate", "/api/v1/client-profiles", "smsGateway", plain: { _ in "txt.att.com" }, base: profile),
            create("ClientProfileCreate", "/api/v1/client-profiles", "notes", multiline: true, base: profile),
            update("ClientProfileUpdate", { "/api/v1/client-profiles/\($0.profile)" }, "firstName"),
            update("ClientProfileUpdate", { "/api/v1/client-profiles/\($0.profile)" }, "lastName"),
            update("ClientProfileUpdate", { "/api/v1/client-profiles/\($0.profile)" }, "email", plain: email),
            update("ClientProfileUpdate", { "/api/v1/client-profiles/\($0.profile)" }, "mobileProvider"),
            update("ClientProfileUpdate", { "/api/v1/client-profiles/\($0.profile)" }, "smsGateway", plain: { _ in "vtext.com" }),
            update("ClientProfileUpdate", { "/api/v1/client-profiles/\($0.profile)" }, "notes", multiline: true),

            create("SecurityLevelCreate", "/api/v1/security-levels", "name", base: level),
            update("SecurityLevelUpdate", { "/api/v1/security-levels/\($0.level)" }, "name"),

            create("ResourceCreate", "/api/v1/resources", "username", plain: username, base: resource),
            create("ResourceCreate", "/api/v1/resources", "password", plain: password, base: resource),
            create("ResourceCreate", "/api/v1/resources", "firstName", base: resource),
            create("ResourceCreate", "/api/v1/resources", "lastName", base: resource),
            create("ResourceCreate", "/api/v1/resources", "email", plain: email, base: resource),
            update("ResourceUpdate", { "/api/v1/resources/\($0.resource)" }, "username", plain: username),
            update("ResourceUpdate", { "/api/v1/resources/\($0.resource)" }, "password", plain: password),
            update("ResourceUpdate", { "/api/v1/resources/\($0.resource)" }, "firstName"),
            update("ResourceUpdate", { "/api/v1/resources/\($0.resource)" }, "lastName"),
            update("ResourceUpdate", { "/api/v1/resources/\($0.resource)" }, "email", plain: email),
            create("ResourceCreate", "/api/v1/resources", "timeZone", plain: timeZone, base: resource),
            update("ResourceUpdate", { "/api/v1/resources/\($0.resource)" }, "timeZone", plain: timeZone),

            create("QueueCreate", "/api/v1/queues", "name", base: named),
            update("QueueUpdate", { "/api/v1/queues/\($0.queue)" }, "name"),
            create("TeamCreate", "/api/v1/teams", "name", base: named),
            update("TeamUpdate", { "/api/v1/teams/\($0.team)" }, "name"),
            create("RoleCreate", "/api/v1/roles", "name", base: role),
            update("RoleUpdate", { "/api/v1/roles/\($0.role)" }, "name"),

            create("InternalLocationCreate", "/api/v1/internal-locations", "name", base: location),
            create("InternalLocationCreate", "/api/v1/internal-locations", "timeZone", plain: timeZone, base: location),
            create("BusinessDay", "/api/v1/internal-locations", "start", field: "businessHours[0].start", plain: { _ in "09:00" }, base: location) {
                w, value, tag in
                location(w, tag).merging(["businessHours": hours(start: value)])
            },
            create("BusinessDay", "/api/v1/internal-locations", "end", field: "businessHours[0].end", plain: { _ in "17:00" }, base: location) {
                w, value, tag in
                location(w, tag).merging(["businessHours": hours(end: value)])
            },
            update("InternalLocationUpdate", { "/api/v1/internal-locations/\($0.location)" }, "name"),
            update("InternalLocationUpdate", { "/api/v1/internal-locations/\($0.location)" }, "timeZone", plain: timeZone),

            create("DepartmentCreate", "/api/v1/departments", "name", base: named),
            create("DepartmentCreate", "/api/v1/departments", "description", multiline: true, base: named),
            update("DepartmentUpdate", { "/api/v1/departments/\($0.department)" }, "name"),
            update("DepartmentUpdate", { "/api/v1/departments/\($0.department)" }, "description", multiline: true),

            create("TicketCreate", "/api/v1/tickets", "title", base: ticket),
            create("TicketCreate", "/api/v1/tickets", "description", multiline: true, base: ticket),
            update("TicketUpdate", { "/api/v1/tickets/\($0.ticket)" }, "title"),
            update("TicketUpdate", { "/api/v1/tickets/\($0.ticket)" }, "description", multiline: true),

            TextField(
                schema: "NoteCreate", property: "body", method: .POST, path: { "/api/v1/tickets/\($0.ticket)/notes" }, field: "body", multiline: true,
                plain: { "Plain \($0)" }, body: { _, value, _ in ["body": .string(value)] }),
            update("NoteUpdate", items("notes") { $0.note }, "body", multiline: true),
            TextField(
                schema: "TimeEntryCreate", property: "summary", method: .POST, path: { "/api/v1/tickets/\($0.ticket)/time-entries" }, field: "summary",
                multiline: true, plain: { "Plain \($0)" }, body: { _, value, _ in ["minutes": 15, "summary": .string(value)] }),
            update("TimeEntryUpdate", items("time-entries") { $0.timeEntry }, "summary", multiline: true),
            TextField(
                schema: "AttachmentCreate", property: "filename", method: .POST, path: { "/api/v1/tickets/\($0.ticket)/attachments" }, field: "filename",
                multiline: false, plain: { "plain-\($0).log" }, body: { _, value, _ in attachmentBody(value) }),
            update("AttachmentUpdate", items("attachments") { $0.attachment }, "filename", plain: { "plain-\($0).log" }),

            create("SavedFilterCreate", "/api/v1/saved-filters", "name", base: filter),
            create("SavedFilterCreate", "/api/v1/saved-filters", "query", base: filter),
            update("SavedFilterUpdate", { "/api/v1/saved-filters/\($0.savedFilter)" }, "name"),
            update("SavedFilterUpdate", { "/api/v1/saved-filters/\($0.savedFilter)" }, "query"),

            create("CoManagingUserCreate", "/api/v1/co-managing-users", "username", plain: username, base: coManagingUser),
            create("CoManagingUserCreate", "/api/v1/co-managing-users", "password", plain: password, base: coManagingUser),
            newContact("firstName"),
            newContact("lastName"),
            newContact("email", plain: email),
            update("CoManagingUserUpdate", { "/api/v1/co-managing-users/\($0.coManagingUser)" }, "username", plain: username),
            update("CoManagingUserUpdate", { "/api/v1/co-managing-users/\($0.coManagingUser)" }, "password", plain: password),
            create("CoManagingTeamCreate", "/api/v1/co-managing-teams", "name", base: named),
            update("CoManagingTeamUpdate", { "/api/v1/co-managing-teams/\($0.coManagingTeam)" }, "name"),
            create("OrganizationGroupCreate", "/api/v1/organization-groups", "name", base: named),
            update("OrganizationGroupUpdate", { "/api/v1/organization-groups/\($0.organizationGroup)" }, "name"),

            update("SiteUpdate", { "/api/v1/sites/\($0.site)" }, "mainPhone", plain: { _ in "+1 212 555 0100" }),
            update("SiteUpdate", { "/api/v1/sites/\($0.site)" }, "clientEmailDomain", plain: { "\($0).example" }),
            update("SiteUpdate", { "/api/v1/sites/\($0.site)" }, "greetingCompanyName"),
            update("SiteUpdate", { "/api/v1/sites/\($0.site)" }, "siteMessage", multiline: true),
            update("SiteUpdate", { "/api/v1/sites/\($0.site)" }, "agentInstallFee", plain: { _ in "25.00" }),
            create("SiteCreate", "/api/v1/sites", "mainPhone", plain: { _ in "+1 212 555 0100" }, base: site),
            create("SiteCreate", "/api/v1/sites", "clientEmailDomain", plain: { "\($0).example" }, base: site),
            create("SiteCreate", "/api/v1/sites", "greetingCompanyName", base: site),
            create("SiteCreate", "/api/v1/sites", "siteMessage", multiline: true, base: site),
            create("SiteCreate", "/api/v1/sites", "agentInstallFee", plain: { _ in "25.00" }, base: site),
            create("DeviceInput", "/api/v1/devices", "name", base: device),
            update("DeviceInput", { "/api/v1/devices/\($0.device)" }, "name"),
        ] + credentialFields + referenceFields + [

            create("PersonalTokenInput", "/api/v1/me/api-tokens", "name", base: named),

            TextField(
                schema: "BlockHourContractCreate", property: "name", method: .POST, path: { "/api/v1/organizations/\($0.organization)/block-hour-contracts" },
                field: "name", multiline: false, plain: { "Block \($0)" },
                body: { _, value, _ in ["name": .string(value), "hoursBought": 10, "startsOn": "2030-01-01"] }),
            update("BlockHourContractUpdate", { "/api/v1/organizations/\($0.organization)/block-hour-contracts/\($0.blockHourContract)" }, "name"),
            create(
                "ExpenseCreate", "/api/v1/expenses", "description",
                base: { w, _ in ["date": "2025-06-03", "category": "travel", "amount": 5, "organizationId": .string(w.organization)] }),
            update("ExpenseUpdate", { "/api/v1/expenses/\($0.expense)" }, "description"),
            // The administrator submits its own week; the week is read as an ISO week, so only its plain value is one.
            TextField(
                schema: "TimesheetAction", property: "week", method: .POST, path: { _ in "/api/v1/timesheets/submit" }, field: "week", multiline: false,
                plain: { _ in "2026-W11" }, body: { _, value, _ in ["week": .string(value)] }),
            TextField(
                schema: "TimesheetAction", property: "reason", method: .POST, path: { _ in "/api/v1/timesheets/reject" }, field: "reason", multiline: false,
                plain: { "Reason \($0)" }, body: { w, value, _ in ["personId": .string(w.resource), "week": "2026-W10", "reason": .string(value)] }),

            create("TicketRuleInput", "/api/v1/ticket-rules", "name", base: ticketRule),
            create("WorkflowRuleInput", "/api/v1/workflow-rules", "name", base: workflowRule),
            create("TicketActionInput", "/api/v1/ticket-actions", "name", base: ticketAction),
            create("WebhookInput", "/api/v1/webhooks", "url", plain: { "https://hooks.example.com/\($0)" }, base: webhook),
            create("WebhookInput", "/api/v1/webhooks", "eventTypes", plain: { _ in "ticket.created" }, base: webhook) { w, value, tag in
                webhook(w, tag).merging(["eventTypes": [.string(value)]])
            },
            // The administrator's own password: its plain value is taken, and the test's session stays.
            TextField(
                schema: "PasswordChangeInput", property: "newPassword", method: .PUT, path: { _ in "/api/v1/me/password" }, field: "newPassword",
                multiline: false, plain: password, body: { _, value, _ in ["currentPassword": .string(TestApp.adminPassword), "newPassword": .string(value)] }),
            TextField(
                schema: "SoftwareApprovalEntry", property: "name", method: .PUT, path: { w in "/api/v1/sites/\(w.site)/software-approvals" },
                field: "entries[0].name", multiline: false, plain: { "Software \($0)" },
                body: { _, value, _ in ["entries": [["name": .string(value), "approval": "install"]]] }),
            TextField(
                schema: "SecurityRequestInput", property: "details", method: .POST, path: { w in "/api/v1/tickets/\(w.ticket)/security-requests" },
                field: "details", multiline: true, plain: { "Details \($0)" },
                body: { _, value, _ in ["category": "newUserAccount", "details": .string(value)] }),
            TextField(
                schema: "SecurityRequestInput", property: "software", method: .POST, path: { w in "/api/v1/tickets/\(w.ticket)/security-requests" },
                field: "software", multiline: false, plain: { "Software \($0)" },
                body: { _, value, _ in ["category": "softwareInstallation", "details": "Install it", "software": .string(value)] }),
        ] + networkFields + accountTemplateFields + phoneFields("/api/v1/contacts", base: contact) + phoneFields("/api/v1/client-profiles", base: profile)
    }()

    /// The vault's entries (`POST /api/v1/sites/{id}/credentials`, `PATCH /api/v1/credentials/{id}`); the secret is exempt.
    static let credentialFields: [TextField] = [("name", false), ("username", false), ("url", false), ("notes", true)].flatMap { property, multiline in
        [
            TextField(
                schema: "CredentialInput", property: property, method: .POST, path: { w in "/api/v1/sites/\(w.site)/credentials" }, field: property,
                multiline: multiline, plain: { "Plain \($0)" },
                body: { _, value, tag in (["kind": "server", "name": .string("Entry \(tag)"), "secret": "s3cret"] as JSON).merging([property: .string(value)]) }
            ),
            update("CredentialInput", { "/api/v1/credentials/\($0.credential)" }, property, multiline: multiline),
        ]
    }

    /// References (`POST /api/v1/references`, `PATCH /api/v1/references/{id}`); a tag names its place in the list.
    static let referenceFields: [TextField] = {
        let base: @Sendable (World, String) -> JSON = { w, tag in ["siteId": .string(w.site), "title": .string("Reference \(tag)")] }
        let tags: Body = { w, value, tag in base(w, tag).merging(["tags": [.string(value)]]) }
        return [
            create("ReferenceCreate", "/api/v1/references", "title", base: base),
            create("ReferenceCreate", "/api/v1/references", "body", multiline: true, base: base),
            create("ReferenceCreate", "/api/v1/references", "tags", field: "tags[0]", plain: { "tag-\($0)" }, base: base, set: tags),
            update("ReferenceUpdate", { "/api/v1/references/\($0.reference)" }, "title"),
            update("ReferenceUpdate", { "/api/v1/references/\($0.reference)" }, "body", multiline: true),
            update("ReferenceUpdate", { "/api/v1/references/\($0.reference)" }, "tags", field: "tags[0]", plain: { "tag-\($0)" }) { _, value, _ in
                ["tags": [.string(value)]]
            },
        ]
    }()

    /// The texts of a site's network information (a PUT of the whole document): the section, the field, whether
    /// the section is a list, and a valid value to put hostile characters into.
    static let networkFields: [TextField] = [
        ("SiteNetworkPrinter", "printers", "type", true, "laser ", false), ("SiteNetworkPrinter", "printers", "name", true, "Printer ", false),
        ("SiteNetworkPrinter", "printers", "model", true, "Model ", false), ("SiteNetworkPrinter", "printers", "ipAddress", true, "", false),
        ("SiteNetworkDrive", "networkDrives", "name", true, "Drive ", false), ("SiteNetworkDrive", "networkDrives", "path", true, "share-", false),
        ("SiteNetworkEmail", "email", "provider", false, "Provider ", false), ("SiteNetworkEmail", "email", "adminPortalURL", false, "", false),
        ("SiteNetworkRemoteAccess", "remoteAccess", "address", true, "vpn-", false),
        ("SiteNetworkRemoteAccess", "remoteAccess", "setupGuide", true, "Guide ", true),
        ("SiteNetworkApplication", "applications", "name", true, "App ", false), ("SiteNetworkApplication", "applications", "notes", true, "Notes ", true),
        ("SiteNetworkActiveDirectory", "activeDirectory", "serverName", false, "DC-", false),
        ("SiteNetworkActiveDirectory", "activeDirectory", "domain", false, "corp-", false),
        ("SiteNetworkBackup", "backup", "server", false, "BK-", false), ("SiteNetworkBackup", "backup", "address", false, "backup-", false),
    ].map { schema, section, property, isList, prefix, multiline in
        // The parts a section needs besides the field under test.
        let required: [String: [String: JSON]] = [
            "printers": ["name": "P"], "networkDrives": ["name": "S", "path": "S:"], "email": ["provider": "M365"],
            "remoteAccess": ["kind": "vpn", "address": "vpn.example"], "applications": ["name": "A"], "activeDirectory": ["serverName": "DC"],
            "backup": ["server": "BK"],
        ]
        let plain: @Sendable (String) -> String =
            switch property {
            case "ipAddress": { _ in "10.0.0.1" }
            case "adminPortalURL": { "https://admin-\($0).example" }
            default: { "\(prefix)\($0)" }
            }
        return TextField(
            schema: schema, property: property, method: .PUT, path: { w in "/api/v1/sites/\(w.site)/network" },
            field: isList ? "\(section)[0].\(property)" : "\(section).\(property)", multiline: multiline, plain: plain,
            body: { _, value, _ in
                var item = required[section] ?? [:]
                item[property] = .string(value)
                return [section: isList ? .array([.object(item)]) : .object(item)]
            })
    }

    /// The new account templates of a site's security-request settings (a PUT of the whole settings).
    static let accountTemplateFields: [TextField] = [
        ("usernameFormat", "{first}.", "", false), ("emailFormat", "{first}.", "@contoso.example", false),
        ("defaultSecurityGroups", "Group ", "", true), ("defaultDistributionGroups", "List ", "", true),
    ].map { property, prefix, suffix, isList in
        TextField(
            schema: "AccountTemplates", property: property, method: .PUT, path: { w in "/api/v1/sites/\(w.site)/security-requests" },
            field: "newUserAccount.templates.\(property)", multiline: false, plain: { "\(prefix)\($0)\(suffix)" },
            body: { _, value, _ in ["categories": ["newUserAccount": ["templates": [property: isList ? [.string(value)] : .string(value)]]]] })
    }

    /// Documented free-text fields that are no create or update field, and why.
    static let exempt: [String: String] = [
        "LoginInput.username": "a login stores nothing; it only compares",
        "LoginInput.password": "a login stores nothing; it only compares",
        "LoginInput.totp": "a login stores nothing; it only compares",
        "TotpConfirmInput.code": "compared with the expected code, never stored",
        "VerifyCodeInput.code": "compared with the stored hash, never stored",
        "PasswordChangeInput.currentPassword": "compared with the stored password, never stored",
        "SiteNotificationRuleInput.instructions": "nested in the rule; refused with control characters in AutomationTests.siteNotificationRules",
        "CredentialInput.secret": "never trimmed and never read back (only revealed); refused with control characters in VaultTests",
        "NoteToAdd.text": "nested in a rule or action; refused with control characters in AutomationTests.notesOfRulesAndActionsRefuseControlCharacters",
        "Handoff.reason":
            "a handoff alternates sides, so a row cannot repeat it; refused with control characters in SLATests.handoffMovesTheTicketAndSplitsItsTime",
    ]

    /// C0, DEL and C1 controls: every one refused on one line. Multi-line text takes LF, CR and tab only.
    static let singleLineRefused = ["\r\n", "\n", "\r", "\t", "\u{0}", "\u{8}", "\u{1B}", "\u{7F}", "\u{85}", "\u{9B}"]
    static let multilineRefused = ["\u{0}", "\u{8}", "\u{1B}", "\u{7F}", "\u{85}", "\u{9B}"]
    static let multilineAccepted = ["line one\nline two", "line one\r\nline two", "tab\tseparated"]

    /// `plain` with `control` in its middle (where trimming cannot take it away).
    static func hostile(_ plain: String, _ control: String) -> String {
        let middle = plain.index(plain.startIndex, offsetBy: plain.count / 2)
        return String(plain[..<middle]) + control + String(plain[middle...])
    }

    static func tables(_ t: TestApp) async throws -> [String: Int] {
        var counts = try await t.rowCounts()
        for table in [
            "co_managing_users", "co_managing_teams", "co_managing_team_members", "co_managing_user_roles", "co_managed_associations",
            "saved_filters", "api_tokens",
        ] {
            counts[table] = try await t.count(table)
        }
        return counts
    }

    @Test func controlCharactersInEveryTextField() async throws {
        try await withApp { t in
            let world = try await World.make(t)
            let targets = Set(Self.fields.filter { $0.method == .PATCH }.map { $0.path(world) })
            var before: [String: JSON] = [:]
            for path in targets { before[path] = try await t.get(path).json }
            let counts = try await Self.tables(t)

            for (index, field) in Self.fields.enumerated() {
                let plain = field.plain("r\(index)")
                for control in field.multiline ? Self.multilineRefused : Self.singleLineRefused {
                    let reply = try await t.send(field.method, field.path(world), json: field.body(world, Self.hostile(plain, control), "r\(index)"))
                    let named = reply.json["errors"].array.compactMap { $0["field"].string }
                    #expect(
                        reply.status == .unprocessableEntity && reply.contentType.hasPrefix("application/problem+json") && named.contains(field.field),
                        "\(field) with \(control.debugDescription): \(reply)")
                }
            }
            #expect(try await Self.tables(t) == counts, "a refused request wrote nothing")
            for path in targets { #expect(try await t.get(path).json == before[path], "\(path) unchanged") }

            // The same bodies with the plain value are accepted: the control character was the only fault.
            for (index, field) in Self.fields.enumerated() {
                let reply = try await t.send(field.method, field.path(world), json: field.body(world, field.plain("r\(index)"), "r\(index)"))
                #expect((200..<300).contains(reply.status.code), "\(field) refused its plain value: \(reply)")
            }
            // Multi-line fields keep their line breaks and tabs.
            for (index, field) in Self.fields.enumerated() where field.multiline {
                for (k, text) in Self.multilineAccepted.enumerated() {
                    let reply = try await t.send(field.method, field.path(world), json: field.body(world, text, "r\(index)m\(k)"))
                    #expect(
                        (200..<300).contains(reply.status.code) && Self.value(reply.json, at: field.field).string == text,
                        "\(field) with \(text.debugDescription): \(reply)"
                    )
                }
            }
        }
    }

    /// The answer's value at a field path such as `remoteAccess[0].setupGuide` (a nested field answers where it was sent).
    static func value(_ json: JSON, at path: String) -> JSON {
        path.split(separator: ".").reduce(json) { json, part in
            guard let open = part.firstIndex(of: "["), let index = Int(part[part.index(after: open)...].dropLast()) else { return json[String(part)] }
            return json[String(part[..<open])][index]
        }
    }

    /// Every free-text field (a string without a format or an enum) of every request body the OpenAPI document
    /// describes, nested objects included, has a row above or a reason not to.
    @Test func everyDocumentedTextFieldHasARow() throws {
        let document = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../Resources/openapi.yaml").standardizedFileURL, encoding: .utf8)
        let documented = OpenAPIText.freeTextFields(document)
        let covered = Set(Self.fields.map { "\($0.schema).\($0.property)" })
        let missing = documented.subtracting(covered).subtracting(Self.exempt.keys)
        #expect(missing.isEmpty, "text fields without a row in AttackSuiteInputTests.fields: \(missing.sorted())")
        #expect(covered.subtracting(documented).isEmpty, "rows for fields the document does not have: \(covered.subtracting(documented).sorted())")
        #expect(documented.count > 60, "the document was read (\(documented.count) fields)")
    }

    /// The import's rows: a control character in a one-line column fails its row, naming the column; the Notes
    /// column takes line breaks and tabs. The file itself is read (CSV, every cell quoted).
    @Test func controlCharactersInImportedCells() async throws {
        let columns: [(header: String, plain: @Sendable (Int) -> String, multiline: Bool)] = [
            ("First Name", { "Ann\($0)" }, false), ("Last Name", { _ in "Able" }, false), ("Email", { "r\($0)@client.example" }, false),
            ("Office Phone", { _ in "5550100" }, false), ("Office Phone Country", { _ in "US" }, false), ("Mobile Provider", { _ in "Verizon" }, false),
            ("SMS Gateway", { _ in "vtext.com" }, false), ("Notes", { _ in "" }, true),
        ]
        // One row per column and character; `expected` holds the column each row must fail on, or nil when it is added.
        var rows: [[String]] = [], expected: [String?] = []
        for (index, column) in columns.enumerated() {
            // NUL refuses a CSV file whole (ValidationTests and the CSV reader's tests check that).
            let refused = (column.multiline ? Self.multilineRefused : Self.singleLineRefused).filter { $0 != "\u{0}" }
            let cases = refused.map { ($0, true) } + (column.multiline ? Self.multilineAccepted.map { ($0, false) } : [])
            for (text, refused) in cases {
                let n = rows.count
                var row = columns.map { $0.plain(n) }
                row[index] = column.multiline && !refused ? text : Self.hostile(row[index].isEmpty ? "a note" : row[index], text)
                rows.append(row)
                expected.append(refused ? column.header : nil)
            }
        }
        func quoted(_ cell: String) -> String { "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let csv = ([columns.map(\.header)] + rows).map { $0.map(quoted).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        try await withApp { t in
            let site = try await t.site(try await t.organization("Contoso"), "HQ")
            let report = try await t.importReport(site, csv: csv)
            let failed = Dictionary(report["failures"].array.map { ($0["row"].int ?? 0, $0["column"].string ?? "(the row)") }) { first, _ in first }
            for (n, column) in expected.enumerated() {
                #expect(failed[n + 2] == column, "row \(n + 2): \(rows[n].map(\.debugDescription)) → \(String(describing: failed[n + 2]))")
            }
            #expect(ReportCounts(report) == ReportCounts(added: expected.filter { $0 == nil }.count, failed: expected.filter { $0 != nil }.count))
        }
    }

    // MARK: Response headers

    /// A file name reaches `Content-Disposition` only encoded (RFC 6266 / 8187), even one stored before
    /// the validation existed; renaming takes the same checks as creating.
    @Test func downloadNamesAreEncoded() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let ticket = try await t.ticket(organization).id
            let attachment = try await t.create("/api/v1/tickets/\(ticket)/attachments", Self.attachmentBody("report.txt")).id
            let path = "/api/v1/tickets/\(ticket)/attachments/\(attachment)"
            expectProblem(try await t.patch(path, ["filename": "invoice\r\nSet-Cookie: a=b"]), .unprocessableEntity, field: "filename", contains: "one line")
            for traversal in ["../etc/passwd", "a\\b.txt", "..", "."] {
                expectProblem(try await t.patch(path, ["filename": .string(traversal)]), .unprocessableEntity, field: "filename", contains: "not a path")
            }
            // A name stored by an older version, straight into the table.
            let stored = "invoice\r\nSet-Cookie: a=b\"\\é 100%.txt"
            try await Attachment.query(on: t.db).filter(\.$id == UUID(uuidString: attachment)!).set(\.$filename, to: stored).update()
            let download = try await t.get(path + "/content")
            expectStatus(download, .ok)
            #expect(
                download.headers[.contentDisposition] == [
                    "attachment; filename=\"invoice__Set-Cookie: a=b___ 100_.txt\"; filename*=UTF-8''invoice%0D%0ASet-Cookie%3A%20a%3Db%22%5C%C3%A9%20100%25.txt"
                ])
            #expect(download.headers[.setCookie].isEmpty)
            #expect(!download.headers.contains { $0.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) })
            let export = try await t.exportProfiles(try await t.site(organization, "Zürich Office"))
            #expect(
                export.headers.first(name: .contentDisposition)
                    == "attachment; filename=\"z_rich-office-client-profiles.csv\"; filename*=UTF-8''z%C3%BCrich-office-client-profiles.csv")
        }
    }

    /// The last guard: a header holding CR, LF or NUL never leaves; the rest of the response does.
    @Test func headerGuardDropsSplittingHeaders() async throws {
        struct Fixed: Responder {
            let headers: HTTPHeaders
            func respond(to request: Request) -> EventLoopFuture<Response> {
                request.eventLoop.makeSucceededFuture(Response(status: .ok, headers: headers, body: "fine"))
            }
        }
        try await withApp { t in
            let request = Request(application: t.app, on: t.app.eventLoopGroup.next())
            let headers: HTTPHeaders = [
                "X-Safe": "kept", "X-Split": "a\r\nSet-Cookie: b=c", "X-Nul": "a\u{0}b", "X-Line": "a\nb", "Content-Type": "text/plain",
            ]
            let response = try await HeaderGuardMiddleware().respond(to: request, chainingTo: Fixed(headers: headers)).get()
            #expect(response.status == .ok)
            #expect(response.headers.map(\.name).filter { $0 != "content-length" } == ["X-Safe", "Content-Type", "X-Content-Type-Options"])
            let clean = try await HeaderGuardMiddleware().respond(to: request, chainingTo: Fixed(headers: ["X-Safe": "kept"])).get()
            #expect(clean.headers.map(\.name).filter { $0 != "content-length" } == ["X-Safe", "X-Content-Type-Options"])
            #expect(t.app.middleware.resolve().contains { $0 is HeaderGuardMiddleware }, "the guard is installed")
        }
    }

    // MARK: Spreadsheet bombs

    /// An XLSX whose worksheet is one cell of `megabytes` of 'A': a few hundred KB that unpacks a thousandfold.
    static func bomb(megabytes: Int) throws -> URL {
        let head = Data(
            ("<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
                + "<row r=\"1\"><c t=\"inlineStr\"><is><t>First Name</t></is></c><c t=\"inlineStr\"><is><t>Last Name</t></is></c>"
                + "<c t=\"inlineStr\"><is><t>Office Phone</t></is></c><c t=\"inlineStr\"><is><t>Office Phone Country</t></is></c></row>"
                + "<row r=\"2\"><c t=\"inlineStr\"><is><t>").utf8)
        let tail = Data("</t></is></c></row></sheetData></worksheet>".utf8)
        return try workbook(sheet: head, Int64(megabytes) << 20, of: UInt8(ascii: "A"), tail)
    }

    /// An XLSX whose shared strings part is larger than the limit (and deflates only as text does).
    static func oversizedSharedStrings() throws -> URL {
        var strings = Data("<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">".utf8)
        var n = 0
        while strings.count < Int(XLSXLimits.standard.sharedStringsBytes) + (1 << 20) {
            n += 1
            strings.append(contentsOf: "<si><t>Client \(n)</t></si>".utf8)
        }
        strings.append(contentsOf: "</sst>".utf8)
        let sheet = Data(
            "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c t=\"s\"><v>0</v></c></row></sheetData></worksheet>"
                .utf8)
        return try workbook(sheet: sheet, 0, of: 0, Data(), extra: [("xl/sharedStrings.xml", strings)])
    }

    /// A minimal workbook whose sheet is `head`, `count` bytes `byte`, `tail` (streamed into the zip, never held whole).
    static func workbook(sheet head: Data, _ count: Int64, of byte: UInt8, _ tail: Data, extra: [(String, Data)] = []) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("attack-\(UUID().uuidString).xlsx")
        let archive = try Archive(url: url, accessMode: .create)
        let workbook = Data(
            "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheets><sheet name=\"S\" sheetId=\"1\"/></sheets></workbook>".utf8)
        for (path, data) in [("xl/workbook.xml", workbook)] + extra {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate, bufferSize: 1 << 20) {
                position, size in
                data.subdata(in: Int(position)..<min(data.count, Int(position) + size))
            }
        }
        let filler = Data(repeating: byte, count: 1 << 20)
        let headCount = Int64(head.count), total = headCount + count + Int64(tail.count)
        try archive.addEntry(with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: total, compressionMethod: .deflate, bufferSize: 1 << 20) {
            position, size in
            var chunk = Data()
            var at = position
            while chunk.count < size && at < total {
                let wanted = size - chunk.count
                let piece: Data
                if at < headCount {
                    piece = head.subdata(in: Int(at)..<min(head.count, Int(at) + wanted))
                } else if at < headCount + count {
                    piece = filler.prefix(Int(min(Int64(wanted), headCount + count - at)))
                } else {
                    let offset = Int(at - headCount - count)
                    piece = tail.subdata(in: offset..<min(tail.count, offset + wanted))
                }
                chunk.append(piece)
                at += Int64(piece.count)
            }
            return chunk
        }
        return url
    }

    /// Every import path answers a bomb and an oversized part with a clear refusal, writes nothing, and
    /// the process's memory stays where it was.
    /// A bomb that says what it unpacks to (300 MB, beyond the worksheet limit: refused before unpacking), one
    /// that stays under that limit (200 MB: stopped by the ratio as it unpacks), and an oversized shared strings part.
    @Test(arguments: [
        ("bomb of 300 MB", "xl/worksheets/sheet1.xml unpacks to more than 256 MB"),
        ("bomb of 200 MB", "xl/worksheets/sheet1.xml unpacks to more than 100 times its compressed size"),
        ("oversized shared strings", "xl/sharedStrings.xml unpacks to more than 64 MB"),
    ])
    func spreadsheetBombsAreRefused(_ kind: String, _ expected: String) async throws {
        let file =
            switch kind {
            case "bomb of 300 MB": try Self.bomb(megabytes: 300)
            case "bomb of 200 MB": try Self.bomb(megabytes: 200)
            default: try Self.oversizedSharedStrings()
            }
        defer { try? FileManager.default.removeItem(at: file) }
        #if os(Linux)
            #expect(ResidentMemory.current() > 0, "resident memory can be read")
        #endif
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 0
        #expect(size < 16 << 20, "the file is small (\(size) bytes)")
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let siteId = try await t.site(organization, "HQ")
            let site = try #require(try await Site.find(UUID(uuidString: siteId), on: t.db))
            let counts = try await Self.tables(t)
            let data = try Data(contentsOf: file)

            // The API.
            var reply: Reply?
            let apiGrowth = try await ResidentMemory.growth {
                reply = try await t.importProfiles(siteId, data, format: "xlsx")
            }
            expectProblem(try #require(reply), .unprocessableEntity, field: "file", contains: expected)
            // The service behind the command line and the page.
            var refusal: TandemError?
            let serviceGrowth = try await ResidentMemory.growth {
                do {
                    _ = try await ProfileTransferService.importFile(at: file, format: .xlsx, site: site, rights: .all, by: nil, dryRun: false, on: t.db)
                } catch let error as TandemError {
                    refusal = error
                }
            }
            guard case .validation(let errors)? = refusal else { Issue.record("the service answered \(String(describing: refusal))"); return }
            #expect(errors.map(\.field) == ["file"] && errors[0].message.contains(expected), "\(errors)")
            // The page's import form.
            var page: Reply?
            let pageGrowth = try await ResidentMemory.growth {
                page = try await Self.pageImport(t, siteId: siteId, data, filename: "profiles.xlsx")
            }
            #expect(page?.status == .ok && page?.text.contains(expected) == true, "the page answered \(String(describing: page))")
            #expect(try await Self.tables(t).filter { $0.key != "api_tokens" } == counts.filter { $0.key != "api_tokens" }, "a refused import wrote nothing")
            #expect(
                apiGrowth < 150 << 20 && serviceGrowth < 150 << 20 && pageGrowth < 150 << 20,
                "memory grew by \(apiGrowth >> 20) MB, \(serviceGrowth >> 20) MB and \(pageGrowth >> 20) MB")
        }
    }
}

extension AttackSuiteInputTests {
    /// The page's import form takes files up to its own limit (64 MB), not a plain form's 1 MB: its CSRF token
    /// travels inside the multipart body, which the check collects first.
    @Test func thePageImportsFilesLargerThanAForm() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Contoso"), "HQ")
            var csv = "First Name,Last Name,Office Phone,Office Phone Country,Notes\n"
            let notes = String(repeating: "n", count: 200)
            for row in 0..<10_000 { csv += "Ann\(row),Able,5550100,US,\(notes)\n" }
            #expect(csv.utf8.count > 2 << 20)
            let reply = try await Self.pageImport(t, siteId: site, Data(csv.utf8), filename: "profiles.csv", live: true)
            #expect(reply.status == .ok, "\(reply.status)")
            #expect(try await t.count("contacts") == 10_000)
        }
    }

    /// Logs the administrator in to the pages and posts `data` to a site's import form, as a browser does.
    static func pageImport(_ t: TestApp, siteId: String, _ data: Data, filename: String, live: Bool = false) async throws -> Reply {
        let loginToken = CSRF.random()
        var headers: HTTPHeaders = ["Cookie": "\(CSRF.loginCookie)=\(loginToken)", "Content-Type": "application/x-www-form-urlencoded"]
        let form = "username=admin&password=\(TestApp.adminPassword)&_csrf=\(loginToken)"
        let login = try await t.send(.POST, "/login", as: "", raw: form, headers: headers)
        guard let session = login.headers.setCookie?[Tokens.sessionCookie]?.string else { throw TestSetupError("the page login answered \(login)") }
        let boundary = "attack-\(UUID().uuidString)"
        var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(CSRF.token(forSession: session))\r\n".utf8)
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\n".utf8)
        let type = filename.hasSuffix(".csv") ? "text/csv" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        body += Data("Content-Type: \(type)\r\n\r\n".utf8) + data
        body += Data("\r\n--\(boundary)--\r\n".utf8)
        headers = ["Cookie": "\(Tokens.sessionCookie)=\(session)", "Content-Type": "multipart/form-data; boundary=\(boundary)"]
        var reply: Reply?
        // Live, the body arrives over a socket, so the size limits apply as they do for a browser.
        let tester = try live ? t.app.testing(method: .running(hostname: "127.0.0.1", port: 0)) : t.app.testing()
        try await tester.test(.POST, "/sites/\(siteId)/profiles/import", headers: headers, body: ByteBuffer(data: body)) { response in
            reply = Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
        return try #require(reply)
    }
}

/// The process's resident memory, sampled on a thread of its own while work runs (Linux; 0 elsewhere).
enum ResidentMemory {
    static func current() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    /// The highest resident memory seen while `work` ran, less what was resident before it.
    static func growth(_ work: () async throws -> Void) async throws -> Int {
        final class Peak: @unchecked Sendable {
            let lock = NSLock()
            var value = 0
            var running = true
        }
        let before = current()
        let peak = Peak()
        let sampler = Thread {
            while peak.lock.withLock({ peak.running }) {
                let now = current()
                peak.lock.withLock { peak.value = max(peak.value, now) }
                usleep(2000)
            }
        }
        sampler.start()
        defer { peak.lock.withLock { peak.running = false } }
        try await work()
        let after = current()
        return peak.lock.withLock { max(peak.value, after) } - before
    }
}

/// Just enough of the OpenAPI document's YAML (as this repository writes it) to list request bodies' fields.
enum OpenAPIText {
    /// `Schema.property` for every string property without a format, an enum or a content encoding, of every
    /// schema a request body names and of the object schemas those refer to.
    static func freeTextFields(_ document: String) -> Set<String> {
        let lines = document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Each schema's properties, with their definition text (the line and any deeper lines).
        var properties: [String: [(String, String)]] = [:]
        var schema: String?
        var inProperties = false
        for line in lines.drop(while: { $0 != "  schemas:" }).dropFirst() {
            let indent = line.prefix(while: { $0 == " " }).count
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            if indent <= 2 { break }
            if indent == 4 { schema = String(text.dropLast()); inProperties = false; continue }
            if indent == 6 { inProperties = text == "properties:"; continue }
            guard inProperties, let schema else { continue }
            if indent == 8, let colon = text.firstIndex(of: ":") {
                properties[schema, default: []].append((String(text[..<colon]), String(text[colon...])))
            } else if indent > 8, var last = properties[schema]?.popLast() {
                last.1 += " " + text
                properties[schema]!.append(last)
            }
        }
        func referenced(_ text: Substring) -> [String] {
            text.components(separatedBy: "#/components/schemas/").dropFirst().map { String($0.prefix { $0.isLetter || $0.isNumber }) }
        }
        var pending = lines.enumerated().filter { $0.element.trimmingCharacters(in: .whitespaces) == "requestBody:" }
            .flatMap { index, _ in lines[index...].prefix(6).flatMap { referenced(Substring($0)) } }
        var seen: Set<String> = []
        var fields: Set<String> = []
        while let name = pending.popLast() {
            guard seen.insert(name).inserted, let list = properties[name] else { continue }
            for (property, definition) in list {
                pending += referenced(Substring(definition))
                let isString = definition.contains("type: string") || definition.contains("type: [string")
                if isString && !definition.contains("format:") && !definition.contains("enum") && !definition.contains("contentEncoding") {
                    fields.insert("\(name).\(property)")
                }
            }
        }
        return fields
    }
}
