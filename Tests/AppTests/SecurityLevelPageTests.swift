import Foundation
import Testing

@testable import App

/// A custom security level's name and permissions edited on its page, through the API's update:
/// system levels are never edited, a co-managed level is offered no administrative permission and
/// refuses one posted anyway, and the input is kept beside the problem.
@Suite(.serialized) struct SecurityLevelPageTests {
    @Test func aCustomLevelsPermissionsAreEditedOnItsPage() async throws {
        try await withApp { t in
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let technician = try await t.securityLevelId(.technician)
            let custom = try await t.create("/api/v1/security-levels", ["name": "Night dispatch", "copyOf": .string(technician)]).id
            let coManaged = try await t.create(
                "/api/v1/security-levels", ["name": "Client IT", "copyOf": .string(try await t.securityLevelId(.coManagedHelpDesk))]
            ).id

            // System levels have no edit link and no edit page.
            #expect(!(try await t.page("/admin/security-levels/\(technician)", session: admin).text.contains("edit-level")))
            expectStatus(try await t.page("/admin/security-levels/\(technician)/edit", session: admin), .conflict)
            expectStatus(
                try await t.submitForm("/admin/security-levels/\(technician)/edit", [("name", "Mine"), ("ticketScope", "all")], session: admin), .conflict)
            #expect(try await t.get("/api/v1/security-levels/\(technician)").json["name"] != "Mine")

            let form = try await t.page("/admin/security-levels/\(custom)/edit", session: admin)
            expectStatus(form, .ok)
            #expect(form.text.contains("name=\"area-tickets\"") && form.text.contains("value=\"manageRules\""))
            let saved = try await t.submitForm(
                "/admin/security-levels/\(custom)/edit",
                [
                    ("name", "Night dispatch"), ("ticketScope", "myQueues"), ("area-tickets", "edit"), ("area-contacts", "view"), ("admin[]", "manageRules"),
                    ("savedFilters[]", "on"),
                ], session: admin)
            expectStatus(saved, .seeOther)
            let level = try await t.get("/api/v1/security-levels/\(custom)").json
            #expect(level["permissions"]["ticketScope"] == "myQueues")
            #expect(level["permissions"]["areas"]["tickets"] == "edit" && level["permissions"]["areas"]["contacts"] == "view")
            #expect(level["permissions"]["areas"]["organizations"] == "none", "an area left at none is none")
            #expect(level["permissions"]["admin"].array.map(\.string) == ["manageRules"])
            #expect(level["permissions"]["savedFilters"] == true)
            #expect(try await t.page("/admin/security-levels/\(custom)?notice=saved", session: admin).text.contains("permissions were saved"))

            // A problem is shown beside its field and the input is kept.
            let blank = try await t.submitForm(
                "/admin/security-levels/\(custom)/edit", [("name", " "), ("ticketScope", "all"), ("area-tickets", "full")], session: admin)
            expectStatus(blank, .unprocessableEntity)
            #expect(blank.text.contains("id=\"name-error\""))
            #expect(blank.text.contains("<option value=\"full\" selected>"))
            #expect(try await t.get("/api/v1/security-levels/\(custom)").json["permissions"]["ticketScope"] == "myQueues", "nothing was saved")

            // A co-managed level is offered no administrative permission; one posted anyway is refused.
            #expect(!(try await t.page("/admin/security-levels/\(coManaged)/edit", session: admin).text.contains("value=\"manageRules\"")))
            let forged = try await t.submitForm(
                "/admin/security-levels/\(coManaged)/edit", [("name", "Client IT"), ("ticketScope", "all"), ("admin[]", "manageUsers")], session: admin)
            expectStatus(forged, .unprocessableEntity)
            #expect(try await t.get("/api/v1/security-levels/\(coManaged)").json["permissions"]["admin"].array.isEmpty)

            // A technician cannot reach the page.
            _ = try await t.resource("tess")
            let tess = try await t.pageSession("tess", TestApp.password)
            expectStatus(try await t.page("/admin/security-levels/\(custom)/edit", session: tess), .forbidden)
            expectStatus(
                try await t.submitForm("/admin/security-levels/\(custom)/edit", [("name", "Mine"), ("ticketScope", "all")], session: tess), .forbidden)
        }
    }
}
