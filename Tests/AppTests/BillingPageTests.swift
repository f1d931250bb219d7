import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The billing pages without JavaScript: the ticket page's time form (start and end, billable), the timesheet page
/// (submit, reject with a reason, approve) and an organization's block hours.
@Suite struct BillingPageTests {
    @Test func timeIsLoggedWithAStartAndAnEndOnTheTicketPage() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let queue = try await t.queue("Service desk")
            let ticket = try await t.ticket(organization, extra: ["queueId": .string(queue)]).id
            let role = try await t.role("Engineer")
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let page = try await t.page("/tickets/\(ticket)", session: admin)
            #expect(page.text.contains("name=\"startedAt\"") && page.text.contains("name=\"endedAt\"") && page.text.contains("name=\"billable\""))
            // A bad end comes back beside its field with the input kept.
            let refused = try await t.submitForm(
                "/tickets/\(ticket)/time-entries",
                [("startedAt", "2026-12-01T10:00"), ("endedAt", "2026-12-01T09:00"), ("summary", "Backwards"), ("roleId", role), ("billable", "")],
                session: admin)
            #expect(refused.status == .unprocessableEntity && refused.text.contains("must be after startedAt"), "\(refused)")
            #expect(refused.text.contains("value=\"2026-12-01T10:00\"") && refused.text.contains("value=\"Backwards\""))
            let saved = try await t.submitForm(
                "/tickets/\(ticket)/time-entries",
                [
                    ("startedAt", "2026-12-01T09:00"), ("endedAt", "2026-12-01T10:30"), ("minutes", ""), ("summary", "Switch"), ("roleId", role),
                    ("billable", ""),
                ],
                session: admin)
            #expect(saved.status == .seeOther, "\(saved)")
            let entries = try await t.get("/api/v1/tickets/\(ticket)/time-entries").json["items"].array
            #expect(entries.count == 1 && entries[0]["minutes"] == 90 && entries[0]["billable"] == true && entries[0]["amount"] == 180)
            let unbilled = try await t.submitForm(
                "/tickets/\(ticket)/time-entries", [("minutes", "15"), ("summary", "Goodwill"), ("roleId", role), ("billable", "false")], session: admin)
            #expect(unbilled.status == .seeOther)
            #expect(try await t.get("/api/v1/tickets/\(ticket)/time-entries").json["items"][1]["billable"] == false)
            // The conversation shows the amount to billing readers only.
            let shown = try await t.page("/tickets/\(ticket)", session: admin)
            #expect(shown.text.contains("billable · 180.00") && shown.text.contains("not billable"), "\(shown)")
            // A help desk technician (its queue holds the ticket; its level reads no reports) sees the time, not the amount.
            _ = try await t.resource("hugo", .helpDesk, queueIds: [queue])
            let hugo = try await t.pageSession("hugo", TestApp.password)
            let hidden = try await t.page("/tickets/\(ticket)", session: hugo)
            #expect(hidden.status == .ok && !hidden.text.contains("180.00") && hidden.text.contains("billable"), "\(hidden)")
        }
    }

    @Test func theTimesheetPageSubmitsRejectsAndApproves() async throws {
        try await withApp { t in
            let ticket = try await t.ticket(try await t.organization("Contoso")).id
            let role = try await t.role("Engineer")
            let tara = try await t.resource("tara")
            try await t.create(
                "/api/v1/tickets/\(ticket)/time-entries", ["roleId": .string(role), "startedAt": "2026-12-01T09:00:00Z", "minutes": 90, "summary": "Switch"],
                as: tara.token)
            let taraPage = try await t.pageSession("tara", TestApp.password)
            let own = try await t.page("/timesheets?week=2026-W49", session: taraPage)
            #expect(own.status == .ok && own.text.contains("Timesheet 2026-W49") && own.text.contains("1:30"), "\(own)")
            #expect(
                own.text.contains("action=\"/timesheets/submit\"") && own.text.contains("120.00") == false, "no amount column for 90 minutes at 120: \(own)")
            #expect(own.text.contains("180.00"), "the technician sees billing")
            let submitted = try await t.submitForm("/timesheets/submit", [("week", "2026-W49")], session: taraPage)
            #expect(submitted.status == .seeOther, "\(submitted)")
            let again = try await t.submitForm("/timesheets/submit", [("week", "2026-W49")], session: taraPage)
            #expect(again.status == .conflict && again.text.contains("can only be approved or rejected"), "\(again)")

            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let review = try await t.page("/timesheets?personId=\(tara.id)&week=2026-W49", session: admin)
            #expect(review.text.contains("action=\"/timesheets/approve\"") && review.text.contains("action=\"/timesheets/reject\""), "\(review)")
            #expect(review.text.contains(">Tara Tester<"), "the person picker names Tara")
            let noReason = try await t.submitForm("/timesheets/reject", [("personId", tara.id), ("week", "2026-W49"), ("reason", "")], session: admin)
            #expect(noReason.status == .unprocessableEntity && noReason.text.contains("id=\"reason-error\""), "\(noReason)")
            let rejected = try await t.submitForm(
                "/timesheets/reject", [("personId", tara.id), ("week", "2026-W49"), ("reason", "Split the switch work")], session: admin)
            #expect(rejected.status == .seeOther)
            let reopened = try await t.page("/timesheets?week=2026-W49", session: taraPage)
            #expect(reopened.text.contains("Split the switch work") && reopened.text.contains("action=\"/timesheets/submit\""))
            _ = try await t.submitForm("/timesheets/submit", [("week", "2026-W49")], session: taraPage)
            let approved = try await t.submitForm("/timesheets/approve", [("personId", tara.id), ("week", "2026-W49")], session: admin)
            #expect(approved.status == .seeOther)
            #expect(try await t.get("/api/v1/timesheets?personId=\(tara.id)&week=2026-W49").json["status"] == "approved")
            // Tara cannot approve her own, even by a forged post; nor see another's week.
            let forged = try await t.submitForm("/timesheets/approve", [("personId", tara.id), ("week", "2026-W49")], session: taraPage)
            #expect(forged.status == .forbidden)
            #expect(try await t.page("/timesheets?personId=\(t.adminId)&week=2026-W49", session: taraPage).status == .notFound)
            let badWeek = try await t.page("/timesheets?week=2026-W99", session: taraPage)
            #expect(badWeek.status == .unprocessableEntity && badWeek.text.contains("id=\"week-error\""))
        }
    }

    @Test func anOrganizationsBlockHoursAreListedAndAdded() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let orgPage = try await t.page("/organizations/\(organization)", session: admin)
            #expect(orgPage.text.contains("/organizations/\(organization)/block-hours"), "linked for billing readers")
            let refused = try await t.submitForm(
                "/organizations/\(organization)/block-hours",
                [("name", "2027"), ("hoursBought", "ten"), ("startsOn", "2027-01-01"), ("thresholdPercent", "80")],
                session: admin)
            #expect(refused.status == .unprocessableEntity && refused.text.contains("id=\"hoursBought-error\"") && refused.text.contains("value=\"ten\""))
            let added = try await t.submitForm(
                "/organizations/\(organization)/block-hours",
                [("name", "2027"), ("hoursBought", "12.5"), ("startsOn", "2027-01-01"), ("endsOn", ""), ("thresholdPercent", "80")], session: admin)
            #expect(added.status == .seeOther, "\(added)")
            let list = try await t.page("/organizations/\(organization)/block-hours", session: admin)
            #expect(list.text.contains("12.5 h") && list.text.contains("2027-01-01 to open-ended"), "\(list)")
            // A help desk technician (no reports) is not shown the link, and the page refuses.
            _ = try await t.resource("hugo", .helpDesk)
            let hugo = try await t.pageSession("hugo", TestApp.password)
            #expect(!(try await t.page("/organizations/\(organization)", session: hugo).text.contains("block-hours")))
            #expect(try await t.page("/organizations/\(organization)/block-hours", session: hugo).status == .forbidden)
        }
    }

    @Test func aBlockHourContractIsEditedOnItsPageWithItsVersion() async throws {
        try await withApp { t in
            let organization = try await t.organization("Contoso")
            let contract = try await t.create(
                "/api/v1/organizations/\(organization)/block-hour-contracts", ["name": "2026 block", "hoursBought": 40, "startsOn": "2026-01-01"])
            #expect(contract["version"] == 1)
            let path = "/organizations/\(organization)/block-hours/\(contract.id)"
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let list = try await t.page("/organizations/\(organization)/block-hours", session: admin)
            #expect(list.text.contains("href=\"\(path)\"") && list.text.contains("Edit 2026 block"), "\(list)")
            let form = try await t.page(path, session: admin)
            #expect(form.status == .ok && form.text.contains("Edit 2026 block") && form.text.contains("name=\"version\" value=\"1\""), "\(form)")
            #expect(form.text.contains("value=\"40\"") && !form.text.contains("Add the contract"))
            let fields: [(String, String)] = [("name", "2026 block"), ("startsOn", "2026-01-01"), ("endsOn", ""), ("thresholdPercent", "80"), ("version", "1")]
            // Field errors come back beside their fields, the input kept.
            let bad = try await t.submitForm(path, fields + [("hoursBought", "12.34567")], session: admin)
            #expect(bad.status == .unprocessableEntity && bad.text.contains("id=\"hoursBought-error\"") && bad.text.contains("value=\"12.34567\""), "\(bad)")
            let backwards = try await t.submitForm(
                path,
                [
                    ("name", "2026 block"), ("hoursBought", "40"), ("startsOn", "2026-06-01"), ("endsOn", "2026-01-31"), ("thresholdPercent", "80"),
                    ("version", "1"),
                ],
                session: admin)
            #expect(backwards.status == .unprocessableEntity && backwards.text.contains("id=\"endsOn-error\""), "\(backwards)")
            // Saved: hours, end and threshold change, the version goes up.
            let saved = try await t.submitForm(
                path,
                [
                    ("name", "2026 block"), ("hoursBought", "60.5"), ("startsOn", "2026-01-01"), ("endsOn", "2026-12-31"), ("thresholdPercent", "90"),
                    ("version", "1"),
                ],
                session: admin)
            #expect(saved.status == .seeOther, "\(saved)")
            let after = try await t.get("/api/v1/organizations/\(organization)/block-hour-contracts/\(contract.id)").json
            #expect(after["hoursBought"] == 60.5 && after["endsOn"] == "2026-12-31" && after["thresholdPercent"] == 90 && after["version"] == 2, "\(after)")
            // A form read before that change is refused (409) and changes nothing; so is a stale PATCH.
            let stale = try await t.submitForm(path, fields + [("hoursBought", "10")], session: admin)
            #expect(stale.status == .conflict && stale.text.contains("version 1, now 2"), "\(stale)")
            expectProblem(
                try await t.patch("/api/v1/organizations/\(organization)/block-hour-contracts/\(contract.id)", ["hoursBought": 10, "version": 1]), .conflict,
                contains: "version 1, now 2")
            #expect(try await t.get("/api/v1/organizations/\(organization)/block-hour-contracts/\(contract.id)").json["hoursBought"] == 60.5)
            // A technician reads the contracts but may not change them: no edit link, 403 on the form and on a post.
            _ = try await t.resource("tara")
            let tara = try await t.pageSession("tara", TestApp.password)
            let theirs = try await t.page("/organizations/\(organization)/block-hours", session: tara)
            #expect(theirs.status == .ok && !theirs.text.contains("Edit 2026 block"), "\(theirs)")
            #expect(try await t.page(path, session: tara).status == .forbidden)
            #expect(try await t.submitForm(path, fields + [("hoursBought", "1"), ("version", "2")], session: tara).status == .forbidden)
        }
    }
}
