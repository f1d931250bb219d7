import Foundation
import Testing
import VaporTesting

@testable import App

/// Departments (SPEC §4): the MSP's and co-managed ones through `/api/v1/departments`, who may join which,
/// what a client-restricted resource sees, the co-managing user's `departmentIds`, deactivation, and the pages.
@Suite struct DepartmentTests {
    struct World {
        var northwind = "", contoso = "", plain = "", queue = "", tess = "", nina = "", carl = ""
    }

    /// Northwind and Contoso co-managed (Nina of Northwind, Carl of Contoso), Plain without co-management, Tess an MSP resource.
    static func world(_ t: TestApp) async throws -> World {
        var w = World()
        try await t.setCoManagement(enabled: true)
        w.northwind = try await t.coManagedOrganization("Northwind Traders")
        w.contoso = try await t.coManagedOrganization("Contoso Pharmaceuticals")
        w.plain = try await t.organization("Plain Industries")
        w.queue = try await t.queue("Service desk")
        w.tess = try await t.resource("tess").id
        w.nina = try await t.coManagingUser("nina", organizationId: w.northwind, queueIds: [w.queue]).id
        w.carl = try await t.coManagingUser("carl", organizationId: w.contoso, queueIds: [w.queue]).id
        return w
    }

    static func members(_ json: JSON) -> Set<String> { Set(json["members"].array.compactMap(\.string)) }

    @Test func departmentsAreCreatedListedChangedAndDeletedThroughTheAPI() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let msp = try await t.create("/api/v1/departments", ["name": "Field services", "description": "On site", "members": JSON([w.tess, w.nina])])
            #expect(msp["coManaged"] == false && msp["organizationId"].isNull && msp["description"] == "On site")
            #expect(Self.members(msp) == [w.tess, w.nina], "an MSP department takes resources and co-managing users")
            let coManaged = try await t.create(
                "/api/v1/departments", ["name": "Northwind IT", "coManaged": true, "organizationId": .string(w.northwind), "members": JSON([w.nina])])
            #expect(coManaged["coManaged"] == true && coManaged["organizationId"].string == w.northwind)

            // Names are unique per owner: the MSP's, or one organization's.
            expectProblem(try await t.post("/api/v1/departments", ["name": "Field services"]), .conflict, contains: "already exists")
            try await t.must(.created, .POST, "/api/v1/departments", ["name": "Field services", "coManaged": true, "organizationId": .string(w.northwind)])
            expectProblem(
                try await t.post("/api/v1/departments", ["name": "Field services", "coManaged": true, "organizationId": .string(w.northwind)]), .conflict)

            // Each refusal names its field.
            let cases: [(JSON, String, String)] = [
                (["name": "Plain IT", "coManaged": true, "organizationId": .string(w.plain)], "organizationId", "co-management is not enabled"),
                (["name": "Nowhere IT", "coManaged": true], "organizationId", "needs the organization"),
                (["name": "Odd", "organizationId": .string(w.northwind)], "organizationId", "belongs to no organization"),
                (["name": "Unknown", "coManaged": true, "organizationId": .string(UUID().uuidString)], "organizationId", "no organization"),
                (
                    ["name": "NW desk", "coManaged": true, "organizationId": .string(w.northwind), "members": JSON([w.tess])], "members[0]",
                    "MSP resource"
                ),
                (
                    ["name": "NW desk", "coManaged": true, "organizationId": .string(w.northwind), "members": JSON([w.nina, w.carl])], "members[1]",
                    "associated"
                ),
                (["name": "Ghosts", "members": JSON([UUID().uuidString])], "members[0]", "no MSP resource or co-managing user"),
                (["name": "Twice", "members": JSON([w.tess, w.tess])], "members", "twice"),
                (["name": "", "members": []], "name", "must not be empty"),
                (["name": "Null", "coManaged": .null], "coManaged", "true or false"),
            ]
            let before = try await t.count("departments")
            for (body, field, text) in cases {
                expectProblem(try await t.post("/api/v1/departments", body), .unprocessableEntity, field: field, contains: text)
            }
            #expect(try await t.count("departments") == before, "a refused body wrote nothing")

            // Owner is fixed after creation; the rest changes.
            expectProblem(try await t.patch("/api/v1/departments/\(msp.id)", ["coManaged": true]), .unprocessableEntity, field: "coManaged")
            expectProblem(
                try await t.patch("/api/v1/departments/\(coManaged.id)", ["organizationId": .string(w.contoso)]), .unprocessableEntity, field: "organizationId")
            let renamed = try await t.must(
                .ok, .PATCH, "/api/v1/departments/\(msp.id)", ["name": "Field team", "description": .null, "members": JSON([w.tess])])
            #expect(renamed["name"] == "Field team" && renamed["description"].isNull && Self.members(renamed) == [w.tess])

            // Pages of the list.
            let first = try await t.get("/api/v1/departments?limit=2").json
            #expect(first["items"].array.count == 2 && first["nextCursor"].string != nil)
            let rest = try await t.get("/api/v1/departments?limit=2&cursor=\(first["nextCursor"].string ?? "")").json
            #expect(Set(first.ids + rest.ids).count == 3 && rest["nextCursor"].isNull)

            // Audited like other configuration, with the organization of a co-managed department.
            let events = try await t.auditEvents(entityId: msp.id)
            #expect(Set(events.compactMap { $0["action"].string }).isSuperset(of: ["created", "updated"]), "\(events)")
            let coManagedEvents = try await t.auditEvents(entityId: coManaged.id)
            #expect(coManagedEvents.first?["organizationId"].string == w.northwind, "\(coManagedEvents)")

            // Only manageSettings changes departments; staff read them; co-managing users and contacts see none.
            let technician = try await t.resource("terry").token
            expectStatus(try await t.get("/api/v1/departments/\(msp.id)", as: technician), .ok)
            expectStatus(try await t.post("/api/v1/departments", ["name": "Mine"], as: technician), .forbidden)
            expectStatus(try await t.delete("/api/v1/departments/\(msp.id)", as: technician), .forbidden)
            let nina = try await t.loginCoManaging(w.nina, "nina")
            expectStatus(try await t.get("/api/v1/departments/\(coManaged.id)", as: nina), .notFound)
            #expect(try await t.get("/api/v1/departments", as: nina).json["items"].array.isEmpty)

            let memberships = try await t.count("department_members")
            expectStatus(try await t.delete("/api/v1/departments/\(coManaged.id)"), .noContent)
            expectStatus(try await t.get("/api/v1/departments/\(coManaged.id)"), .notFound)
            #expect(try await t.count("department_members") == memberships - 1, "its member left it")
            #expect(try await t.auditEvents(entityId: coManaged.id).contains { $0["action"] == "deleted" })
        }
    }

    @Test func aClientRestrictedResourceSeesOnlyTheDepartmentsOfItsOrganizations() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let msp = try await t.create("/api/v1/departments", ["name": "Field services", "members": JSON([w.tess, w.nina, w.carl])]).id
            let northwindIT = try await t.create(
                "/api/v1/departments", ["name": "Northwind IT", "coManaged": true, "organizationId": .string(w.northwind)]
            ).id
            let contosoIT = try await t.create(
                "/api/v1/departments", ["name": "Contoso IT", "coManaged": true, "organizationId": .string(w.contoso), "members": JSON([w.carl])]
            ).id

            let rick = try await t.resource("rick", .technician, restrictions: [w.northwind]).token
            #expect(Set(try await t.get("/api/v1/departments", as: rick).json.ids) == [msp, northwindIT])
            expectStatus(try await t.get("/api/v1/departments/\(contosoIT)", as: rick), .notFound)
            #expect(Self.members(try await t.get("/api/v1/departments/\(msp)", as: rick).json) == [w.tess, w.nina], "Carl of Contoso is not named")

            // A restricted administrator: Contoso's department reads as unknown, and its edit keeps the members it cannot see.
            let ray = try await t.resource("ray", .administrator, restrictions: [w.northwind]).token
            expectStatus(try await t.patch("/api/v1/departments/\(contosoIT)", ["name": "Mine now"], as: ray), .notFound)
            expectStatus(try await t.delete("/api/v1/departments/\(contosoIT)", as: ray), .notFound)
            expectProblem(
                try await t.post("/api/v1/departments", ["name": "Contoso desk", "coManaged": true, "organizationId": .string(w.contoso)], as: ray),
                .unprocessableEntity, field: "organizationId", contains: "no organization")
            expectProblem(
                try await t.post("/api/v1/departments", ["name": "Hidden", "members": JSON([w.carl])], as: ray), .unprocessableEntity, field: "members[0]")
            let edited = try await t.must(.ok, .PATCH, "/api/v1/departments/\(msp)", ["members": JSON([w.tess])], as: ray)
            #expect(Self.members(edited) == [w.tess])
            #expect(Self.members(try await t.get("/api/v1/departments/\(msp)").json) == [w.tess, w.carl], "the member it could not see stays")
            // Carl's departments as Rick sees them: not Contoso's.
            let carl = try await t.get("/api/v1/co-managing-users/\(w.carl)", as: rick)
            expectStatus(carl, .notFound)
            let nina = try await t.get("/api/v1/co-managing-users/\(w.nina)", as: rick).json
            #expect(nina["departmentIds"].array.isEmpty)
        }
    }

    @Test func aCoManagingUserJoinsDepartmentsThroughItsBody() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let msp = try await t.create("/api/v1/departments", ["name": "Field services"]).id
            let northwindIT = try await t.create(
                "/api/v1/departments", ["name": "Northwind IT", "coManaged": true, "organizationId": .string(w.northwind)]
            ).id
            let contosoIT = try await t.create(
                "/api/v1/departments", ["name": "Contoso IT", "coManaged": true, "organizationId": .string(w.contoso)]
            ).id

            let refused = try await t.post(
                "/api/v1/co-managing-users",
                try await t.coManagingUserBody("nell", organizationId: w.northwind, queueIds: [w.queue], extra: ["departmentIds": JSON([contosoIT])]))
            expectProblem(refused, .unprocessableEntity, field: "departmentIds", contains: "associated")
            expectProblem(
                try await t.post(
                    "/api/v1/co-managing-users",
                    try await t.coManagingUserBody(
                        "nell", organizationId: w.northwind, queueIds: [w.queue], extra: ["departmentIds": JSON([UUID().uuidString])])),
                .unprocessableEntity, field: "departmentIds")
            let nell = try await t.coManagingUser(
                "nell", organizationId: w.northwind, queueIds: [w.queue], extra: ["departmentIds": JSON([msp, northwindIT])])
            #expect(Set(nell["departmentIds"].array.compactMap(\.string)) == [msp, northwindIT])
            #expect(Self.members(try await t.get("/api/v1/departments/\(northwindIT)").json) == [nell.id])

            // Contoso's department once Nell is associated with Contoso too.
            let update = "/api/v1/co-managing-users/\(nell.id)"
            expectProblem(try await t.patch(update, ["departmentIds": JSON([msp, contosoIT])]), .unprocessableEntity, field: "departmentIds")
            try await t.setUp(w.contoso, users: [w.carl, nell.id])
            let moved = try await t.must(.ok, .PATCH, update, ["departmentIds": JSON([contosoIT, northwindIT])])
            #expect(Set(moved["departmentIds"].array.compactMap(\.string)) == [contosoIT, northwindIT])
            #expect(Self.members(try await t.get("/api/v1/departments/\(msp)").json).isEmpty)
            #expect(try await t.auditEvents(entityId: nell.id).contains { $0["action"] == "updated" })

            // Rick (Northwind only) sees and changes only Northwind's; Contoso's stays.
            let ray = try await t.resource("ray", .administrator, restrictions: [w.northwind]).token
            #expect(try await t.get(update, as: ray).json["departmentIds"].array.compactMap(\.string) == [northwindIT])
            let cleared = try await t.must(.ok, .PATCH, update, ["departmentIds": []], as: ray)
            #expect(cleared["departmentIds"].array.isEmpty)
            #expect(try await t.get(update).json["departmentIds"].array.compactMap(\.string) == [contosoIT], "the department it cannot see stays")

            // Erasure takes the user out of every department.
            expectStatus(try await t.delete(update), .noContent)
            #expect(Self.members(try await t.get("/api/v1/departments/\(contosoIT)").json).isEmpty)
        }
    }

    @Test func deactivatingCoManagementEndsCoManagingUsersMemberships() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let msp = try await t.create("/api/v1/departments", ["name": "Field services", "members": JSON([w.tess, w.nina])]).id
            let northwindIT = try await t.create(
                "/api/v1/departments", ["name": "Northwind IT", "coManaged": true, "organizationId": .string(w.northwind), "members": JSON([w.nina])]
            ).id
            let impact = try await t.get("/api/v1/co-management/deactivation-impact").json
            #expect(impact["departmentMembershipsToDelete"].int == 2, "\(impact)")
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            #expect(try await t.page("/admin/co-management", session: admin).text.contains("Department memberships to delete (2)"))

            for user in [w.nina, w.carl] { try await t.must(.ok, .PATCH, "/api/v1/co-managing-users/\(user)", ["active": false]) }
            try await t.setCoManagement(enabled: false)
            #expect(Self.members(try await t.get("/api/v1/departments/\(msp)").json) == [w.tess], "MSP resources stay")
            #expect(Self.members(try await t.get("/api/v1/departments/\(northwindIT)").json).isEmpty)
            expectStatus(try await t.get("/api/v1/departments/\(northwindIT)"), .ok)
        }
    }

    // MARK: Pages

    @Test func departmentPagesCreateAddMembersAndDeleteThroughTheAPI() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let list = try await t.page("/admin/departments", session: admin)
            expectStatus(list, .ok)
            #expect(list.text.contains("href=\"/admin/departments/new\"") && list.text.contains("aria-current=\"page\">Departments"))
            let new = try await t.page("/admin/departments/new", session: admin)
            #expect(new.text.contains(">Northwind Traders<") && !new.text.contains("Plain Industries"), "only co-managed organizations are offered")

            let empty = try await t.submitForm("/admin/departments/new", [("name", ""), ("kind", "msp")], session: admin)
            expectStatus(empty, .unprocessableEntity)
            #expect(empty.text.contains("id=\"name-error\""))
            let noOrganization = try await t.submitForm(
                "/admin/departments/new", [("name", "Northwind IT"), ("kind", "coManaged"), ("organizationId", "")], session: admin)
            expectStatus(noOrganization, .unprocessableEntity)
            #expect(noOrganization.text.contains("id=\"organizationId-error\"") && noOrganization.text.contains("value=\"Northwind IT\""))

            let created = try await t.submitForm(
                "/admin/departments/new", [("name", "Field services"), ("description", "On site"), ("kind", "msp")], session: admin)
            expectStatus(created, .seeOther)
            let msp = ConfigurationPageTests.createdId(created)
            let coManagedReply = try await t.submitForm(
                "/admin/departments/new", [("name", "Northwind IT"), ("kind", "coManaged"), ("organizationId", w.northwind)], session: admin)
            expectStatus(coManagedReply, .seeOther)
            let coManaged = ConfigurationPageTests.createdId(coManagedReply)
            #expect(try await t.get("/api/v1/departments/\(coManaged)").json["organizationId"].string == w.northwind)
            let listed = try await t.page("/admin/departments", session: admin).text
            #expect(listed.contains("Co-managed: Northwind Traders") && listed.contains(">MSP<"), "the list says whose each is")

            // Members: the co-managed department offers Nina, not Tess or Carl; a refusal is shown beside the picker.
            let page = try await t.page("/admin/departments/\(coManaged)", session: admin)
            #expect(page.text.contains("Nina Comanager (nina)") && !page.text.contains("Carl Comanager") && !page.text.contains("Tess Tester"))
            #expect(!page.text.contains("Contoso Pharmaceuticals"), "a stored department offers only its own organization")
            let wrong = try await t.submitForm("/admin/departments/\(coManaged)/members", [("principalId", w.tess)], session: admin)
            expectStatus(wrong, .unprocessableEntity)
            #expect(wrong.text.contains("id=\"principalId-error\"") && wrong.text.contains("not a co-managed department"))
            let none = try await t.submitForm("/admin/departments/\(msp)/members", [("principalId", "")], session: admin)
            expectStatus(none, .unprocessableEntity)
            #expect(none.text.contains("choose a person to add"))
            for person in [w.tess, w.nina] {
                expectStatus(try await t.submitForm("/admin/departments/\(msp)/members", [("principalId", person)], session: admin), .seeOther)
            }
            #expect(Self.members(try await t.get("/api/v1/departments/\(msp)").json) == [w.tess, w.nina])
            let shown = try await t.page("/admin/departments/\(msp)?notice=member-added", session: admin)
            #expect(shown.text.contains("Tess Tester (MSP resource)") && shown.text.contains("The member was added."))
            expectStatus(try await t.submitForm("/admin/departments/\(msp)/members/\(w.nina)/remove", [], session: admin), .seeOther)
            #expect(Self.members(try await t.get("/api/v1/departments/\(msp)").json) == [w.tess])

            // Editing keeps the owner; the form posts it back unchanged.
            expectStatus(
                try await t.submitForm(
                    "/admin/departments/\(coManaged)", [("name", "Northwind desk"), ("kind", "coManaged"), ("organizationId", w.northwind)],
                    session: admin), .seeOther)
            #expect(try await t.get("/api/v1/departments/\(coManaged)").json["name"] == "Northwind desk")

            let confirm = try await t.page("/admin/departments/\(msp)/delete", session: admin)
            #expect(confirm.text.contains("Its one member leaves it.") && confirm.text.contains("id=\"confirm-delete\""))
            let deleted = try await t.submitForm("/admin/departments/\(msp)/delete", [], session: admin)
            #expect(deleted.headers.first(name: .location) == "/admin/departments?notice=deleted")
            expectStatus(try await t.get("/api/v1/departments/\(msp)"), .notFound)

            // A technician reads the pages and changes nothing.
            _ = try await t.resource("terry")
            let technician = try await t.pageSession("terry", TestApp.password)
            let readOnly = try await t.page("/admin/departments", session: technician)
            expectStatus(readOnly, .ok)
            #expect(!readOnly.text.contains("href=\"/admin/departments/new\""))
            expectStatus(try await t.submitForm("/admin/departments/new", [("name", "Mine"), ("kind", "msp")], session: technician), .forbidden)
            expectStatus(try await t.submitForm("/admin/departments/\(coManaged)/members", [("principalId", w.tess)], session: technician), .forbidden)
        }
    }

    @Test func theWizardAndTheUsersPageChooseDepartments() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let msp = try await t.create("/api/v1/departments", ["name": "Field services"]).id
            let northwindIT = try await t.create(
                "/api/v1/departments", ["name": "Northwind IT", "coManaged": true, "organizationId": .string(w.northwind)]
            ).id
            _ = try await t.create("/api/v1/departments", ["name": "Contoso IT", "coManaged": true, "organizationId": .string(w.contoso)])
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let form: [(String, String)] = [
                ("organizationId", w.northwind), ("contactMode", "new"), ("firstName", "Wanda"), ("lastName", "Wizard"),
                ("email", "wanda@northwind.example"), ("username", "wanda"), ("password", "wizard-secret-2026"), ("queueIds[]", w.queue),
                ("securityLevelId", try await t.securityLevelId(.coManagedHelpDesk)),
            ]
            // The details are checked before the departments step.
            let noQueue = try await t.submitForm("/admin/co-managing-users/new", form.filter { $0.0 != "queueIds[]" } + [("go", "departments")], session: admin)
            expectStatus(noQueue, .unprocessableEntity)
            #expect(noQueue.text.contains("id=\"wizard-details\""))
            let step = try await t.submitForm("/admin/co-managing-users/new", form + [("go", "departments")], session: admin)
            expectStatus(step, .ok)
            #expect(step.text.contains("id=\"wizard-departments\"") && step.text.contains("Field services") && step.text.contains("Northwind IT (co-managed)"))
            #expect(!step.text.contains("Contoso IT"), "another organization's department is not offered")

            let chosen = form + [("departmentIds[]", msp), ("departmentIds[]", northwindIT)]
            let confirm = try await t.submitForm("/admin/co-managing-users/new", chosen + [("go", "confirm")], session: admin)
            #expect(confirm.text.contains("id=\"wizard-confirm\"") && confirm.text.contains("Field services, Northwind IT"), "the summary names them")
            let created = try await t.submitForm("/admin/co-managing-users/new", chosen + [("go", "create"), ("confirmLicense", "on")], session: admin)
            expectStatus(created, .seeOther)
            let id = try #require(created.headers.first(name: .location)?.firstMatch(of: /co-managing-users\/([0-9A-Fa-f-]{36})/).map { String($0.1) })
            #expect(Set(try await t.get("/api/v1/co-managing-users/\(id)").json["departmentIds"].array.compactMap(\.string)) == [msp, northwindIT])

            let general = try await t.page("/admin/co-managing-users/\(id)", session: admin)
            #expect(general.text.contains("Field services, Northwind IT"))
            let access = try await t.page("/admin/co-managing-users/\(id)?tab=access", session: admin)
            #expect(access.text.contains("name=\"departmentIds[]\"") && !access.text.contains("Contoso IT"))
            let saved = try await t.submitForm(
                "/admin/co-managing-users/\(id)/access", [("queueIds[]", w.queue), ("departmentIds[]", northwindIT)], session: admin)
            expectStatus(saved, .seeOther)
            #expect(try await t.get("/api/v1/co-managing-users/\(id)").json["departmentIds"].array.compactMap(\.string) == [northwindIT])
        }
    }
}
