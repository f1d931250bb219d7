import Foundation
import Testing
import VaporTesting

@testable import App

/// A site's "Security requests" and "Unlicensed software" pages: saved through the API's functions and
/// read back, each problem beside its field with the input kept, read-only (and a 403 on a post) for whoever
/// may not change the site, a 404 for a site the user cannot see, and the account templates' preview.
@Suite(.serialized) struct SiteSecurityPageTests {
    struct World {
        var contoso: String
        var site: String
        var ann: String
        var marta: String
        var admin: String
    }

    static func world(_ t: TestApp) async throws -> World {
        let contoso = try await t.organization("Contoso")
        let site = try await t.site(contoso, "HQ")
        let ann = try await t.contact(contoso, "Ann", extra: ["siteId": .string(site), "phones": AttackSuiteInputTests.phones()])
        let (marta, _) = try await t.resource("marta", .administrator)
        return World(contoso: contoso, site: site, ann: ann, marta: marta, admin: try await t.pageSession("admin", TestApp.adminPassword))
    }

    /// The page's text in lower case, so ids compare whatever case they were written in.
    static func lower(_ reply: Reply) -> String { reply.text.lowercased() }

    @Test func settingsAreSavedThroughThePageAndReadBack() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let path = "/sites/\(w.site)/security-requests"
            let site = try await t.page("/sites/\(w.site)", session: w.admin)
            #expect(site.text.contains("href=\"\(path)\"") && site.text.contains("href=\"/sites/\(w.site)/software-approvals\""), "the site page links both")
            let empty = try await t.page(path, session: w.admin)
            expectStatus(empty, .ok)
            #expect(empty.text.contains("The MSP approves: New user account"), "the policy sentence is at the top")
            #expect(Self.lower(empty).contains("value=\"contact:\(w.ann.lowercased())\">ann contact (contact)</option>"), "contacts are offered as contacts")
            #expect(Self.lower(empty).contains("value=\"resource:\(w.marta.lowercased())\">marta tester (msp resource)</option>"), "resources as MSP resources")
            #expect(!empty.text.contains("id=\"tier4-mode-none\""), "Tier 4 has no \"no approval needed\"")
            #expect(!empty.text.contains("id=\"read-only\""))
            let policy = empty.headers.first(name: "Content-Security-Policy") ?? ""
            #expect(policy.contains("default-src 'self'") && !policy.contains("unsafe-inline"))

            let saved = try await t.submitForm(
                path,
                [
                    ("passwordReset-mode", "approval"), ("passwordReset-approver1", "contact:\(w.ann)"), ("passwordReset-approver2", "resource:\(w.marta)"),
                    ("passwordReset-authenticateApprover", "on"), ("agentInstallation-mode", "none"), ("agentInstallation-authenticateCaller", "on"),
                    ("newUserAccount-mode", "approval"), ("newUserAccount-approver1", "contact:\(w.ann)"), ("newUserAccount-group1", "on"),
                    ("newUserAccount-usernameFormat", "{first}.{last}"), ("newUserAccount-securityGroups", "Staff\n\nVPN users\n"),
                    // Forged: Tier 4 cannot be "no approval needed", and the page does not read it.
                    ("tier4-mode", "none"),
                ], session: w.admin)
            expectStatus(saved, .seeOther)
            #expect(saved.headers.first(name: .location) == "\(path)?notice=saved")

            let api = try await t.get("/api/v1/sites/\(w.site)/security-requests").json["categories"]
            #expect(api["passwordReset"]["approvers"].array.map { $0["kind"].string } == ["contact", "resource"])
            #expect(api["passwordReset"]["approvers"][1]["id"].string?.lowercased() == w.marta.lowercased())
            #expect(api["passwordReset"]["authenticateApprover"] == true && api["passwordReset"]["authenticateCaller"] == false)
            #expect(api["agentInstallation"]["noApprovalNeeded"] == true && api["agentInstallation"]["authenticateCaller"] == true)
            #expect(api["newUserAccount"]["approvers"][0]["kind"] == "groupContact")
            #expect(api["newUserAccount"]["templates"]["usernameFormat"] == "{first}.{last}")
            #expect(api["newUserAccount"]["templates"]["defaultSecurityGroups"].array.map { $0.string } == ["Staff", "VPN users"])
            #expect(api["tier4"]["noApprovalNeeded"] == false)
            let audit = try await t.get("/api/v1/audit-events?limit=200").json["items"].array
            #expect(audit.filter { $0["action"] == "securityRequestsUpdated" }.count == 1, "saved through the API's function, audited once")

            let read = try await t.page("\(path)?notice=saved", session: w.admin)
            #expect(read.text.contains("The security-request settings were saved."))
            let text = Self.lower(read)
            #expect(read.text.contains("approvers decide: New user account, Password reset."), "the sentence follows the settings")
            #expect(read.text.contains("No approval needed: Agent installation."))
            #expect(text.contains("value=\"contact:\(w.ann.lowercased())\" selected"), "the chosen approver is selected")
            #expect(text.contains("value=\"resource:\(w.marta.lowercased())\" selected"))
            #expect(read.text.contains("id=\"newUserAccount-group1\" name=\"newUserAccount-group1\" value=\"on\" checked"))
            #expect(read.text.contains("id=\"passwordReset-authenticateApprover\" name=\"passwordReset-authenticateApprover\" value=\"on\" checked"))
            #expect(read.text.contains("id=\"agentInstallation-mode-none\" name=\"agentInstallation-mode\" value=\"none\" checked"))
            #expect(read.text.contains("value=\"{first}.{last}\""))
        }
    }

    @Test func problemsAreShownBesideTheirFieldsWithTheInputKept() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let fabrikam = try await t.organization("Fabrikam")
            let fred = try await t.contact(fabrikam, "Fred")
            let path = "/sites/\(w.site)/security-requests"
            let format = "{first}.{nickname}"
            let refused = try await t.submitForm(
                path,
                [
                    ("newUserAccount-usernameFormat", format), ("newUserAccount-securityGroups", "Staff"),
                    ("passwordReset-approver1", "contact:\(w.ann)"), ("passwordReset-approver2", "contact:\(w.ann)"),
                ], session: w.admin)
            expectStatus(refused, .unprocessableEntity)
            let text = refused.text
            #expect(text.contains("id=\"newUserAccount-usernameFormat-error\">Unknown placeholder {nickname}"), "\(text)")
            #expect(text.contains("value=\"\(format)\""), "the format typed is kept")
            #expect(text.contains(">Staff</textarea>"), "the other fields are kept")
            #expect(text.contains("id=\"passwordReset-approvers-error\">An approver is listed twice."))
            #expect(text.contains("New user account, username format: unknown placeholder"), "the summary names the category and the field")

            // The approvers are checked once the settings hold together.
            let stranger = try await t.submitForm(path, [("filePermissionChange-approver2", "contact:\(fred)")], session: w.admin)
            expectStatus(stranger, .unprocessableEntity)
            let text2 = stranger.text
            // The second place is the API's first approver (the first was left empty): its problem is shown beside the second.
            #expect(text2.contains("id=\"filePermissionChange-approver2-error\">Must be a contact of HQ"), "\(text2)")
            #expect(!text2.contains("id=\"filePermissionChange-approver1-error\""))
            #expect(Self.lower(stranger).contains("value=\"contact:\(fred.lowercased())\" selected"), "the refused choice is kept, though it is no option")
            #expect(try await t.get("/api/v1/sites/\(w.site)/security-requests").json["categories"]["newUserAccount"]["templates"] == .null)

            // A choice that is none of the kinds offered, and a group that is an MSP resource, are refused by the page.
            let forged = try await t.submitForm(
                path, [("newMailAccount-approver1", "robot:\(w.ann)"), ("passwordReset-approver1", "resource:\(w.marta)"), ("passwordReset-group1", "on")],
                session: w.admin)
            expectStatus(forged, .unprocessableEntity)
            #expect(forged.text.contains("id=\"newMailAccount-approver1-error\">Not one of the choices offered."))
            #expect(forged.text.contains("id=\"passwordReset-approver1-error\">Only a contact can be a group contact."))
            let audit = try await t.get("/api/v1/audit-events?limit=200").json["items"].array
            #expect(!audit.contains { $0["action"] == "securityRequestsUpdated" }, "nothing was written")
        }
    }

    @Test func theTemplatesArePreviewedForAContactOfTheSite() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let other = try await t.site(w.contoso, "Plant")
            let bea = try await t.contact(w.contoso, "Béa", extra: ["siteId": .string(other), "phones": AttackSuiteInputTests.phones()])
            let path = "/sites/\(w.site)/security-requests"
            expectStatus(
                try await t.submitForm(
                    path,
                    [
                        ("newUserAccount-usernameFormat", "{first}.{last}"), ("newUserAccount-emailFormat", "{f}{last}@contoso.example"),
                        ("newUserAccount-securityGroups", "Staff"),
                    ], session: w.admin), .seeOther)
            let page = try await t.page("\(path)?previewContactId=\(w.ann)", session: w.admin)
            #expect(page.text.contains("id=\"newUserAccount-preview\""))
            #expect(page.text.contains("<dt>Username</dt><dd>ann.contact</dd>") && page.text.contains("<dd>acontact@contoso.example</dd>"), "\(page.text)")
            #expect(page.text.contains("<dt>Security groups</dt><dd>Staff</dd>"))
            #expect(page.text.contains("<dt>Username</dt><dd>No username format</dd>"), "the mail account category has no templates yet")
            let choices = Self.lower(page).firstMatch(of: /id="previewcontactid"(.*?)<\/select>/.dotMatchesNewlines()).map { String($0.1) } ?? ""
            #expect(choices.contains("value=\"\(w.ann.lowercased())\" selected"))
            #expect(!choices.contains(bea.lowercased()), "only the site's contacts are offered to preview for")
            #expect(
                !(try await t.page("\(path)?previewContactId=\(bea)", session: w.admin)).text.contains("-preview\""), "another site's contact is not previewed")

            // Unsaved formats are previewed without saving.
            let unsaved = try await t.submitForm(
                path, [("intent", "preview"), ("previewContactId", w.ann), ("newUserAccount-usernameFormat", "{l}{first}")], session: w.admin)
            expectStatus(unsaved, .ok)
            #expect(unsaved.text.contains("<dt>Username</dt><dd>cann</dd>") && unsaved.text.contains("value=\"{l}{first}\""))
            #expect(
                try await t.get("/api/v1/sites/\(w.site)/security-requests").json["categories"]["newUserAccount"]["templates"]["usernameFormat"]
                    == "{first}.{last}")
        }
    }

    @Test func whoMayNotChangeTheSiteReadsAndWhoCannotSeeItFindsNothing() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let fabrikam = try await t.organization("Fabrikam")
            let hidden = try await t.site(fabrikam, "Plant")
            expectStatus(try await t.put("/api/v1/sites/\(w.site)/software-approvals", ["entries": [["name": "Zoom", "approval": "install"]]]), .ok)
            // The technician's system level sees sites but may not change them (the API answers 403).
            _ = try await t.resource("tech")
            let tech = try await t.pageSession("tech", TestApp.password)
            for (path, save) in [
                ("/sites/\(w.site)/security-requests", [("passwordReset-mode", "none")]),
                ("/sites/\(w.site)/software-approvals", [("count", "1"), ("name-0", "Zoom"), ("approval-0", "never")]),
            ] {
                let page = try await t.page(path, session: tech)
                expectStatus(page, .ok)
                #expect(page.text.contains("id=\"read-only\"") && page.text.contains("class=\"form-fields\" disabled"), "\(path)")
                #expect(!page.text.contains("id=\"save-security\"") && !page.text.contains("id=\"save-software\"") && !page.text.contains("Remove…"), "\(path)")
                #expect(!Self.lower(page).contains("marta tester"), "a reader is not offered the people to choose from")
                expectStatus(try await t.submitForm(path, save, session: tech), .forbidden)
            }
            expectStatus(try await t.page("/sites/\(w.site)/software-approvals/remove?name=Zoom", session: tech), .forbidden)
            expectStatus(try await t.submitForm("/sites/\(w.site)/software-approvals/remove", [("name", "Zoom")], session: tech), .forbidden)
            #expect(try await t.get("/api/v1/sites/\(w.site)/software-approvals").json["entries"][0]["approval"] == "install")
            #expect(try await t.get("/api/v1/sites/\(w.site)/security-requests").json["categories"]["passwordReset"]["noApprovalNeeded"] == false)

            // The read-only page still previews the stored templates.
            let preview = try await t.page("/sites/\(w.site)/security-requests?previewContactId=\(w.ann)", session: tech)
            #expect(preview.text.contains("id=\"preview-form\"") && preview.text.contains("id=\"newUserAccount-preview\""))

            // A client-restricted technician does not find another organization's site; nobody finds an unknown one.
            _ = try await t.resource("rick", restrictions: [w.contoso])
            let rick = try await t.pageSession("rick", TestApp.password)
            for path in ["/sites/\(hidden)/security-requests", "/sites/\(hidden)/software-approvals", "/sites/\(hidden)/software-approvals/remove?name=Zoom"] {
                expectStatus(try await t.page(path, session: rick), .notFound)
            }
            expectStatus(try await t.submitForm("/sites/\(hidden)/security-requests", [("passwordReset-mode", "none")], session: rick), .notFound)
            expectStatus(try await t.submitForm("/sites/\(hidden)/software-approvals", [("count", "0")], session: rick), .notFound)
            expectStatus(try await t.page("/sites/\(w.site)/security-requests", session: rick), .ok)
            expectStatus(try await t.page("/sites/\(UUID())/security-requests", session: w.admin), .notFound)
            // The routes are registered pages: without a session they lead to the login, not a 404.
            let id = UUID()
            for route in [PageRoutes.siteSecurityRequests, PageRoutes.siteSoftwareApprovals, PageRoutes.siteSoftwareApprovalRemove] {
                #expect(try await t.send(.GET, route.url(id), as: "").status != .notFound, "\(route.url(id))")
            }
        }
    }

    @Test func unlicensedSoftwareIsAddedChangedAndRemovedAfterConfirmation() async throws {
        try await withApp { t in
            let w = try await Self.world(t)
            let path = "/sites/\(w.site)/software-approvals"
            let api = "/api/v1/sites/\(w.site)/software-approvals"
            let empty = try await t.page(path, session: w.admin)
            expectStatus(empty, .ok)
            #expect(empty.text.contains("id=\"name-new\"") && empty.text.contains("aria-current=\"page\">Unlicensed software"))

            expectStatus(try await t.submitForm(path, [("count", "0"), ("name-new", "Zoom"), ("approval-new", "install")], session: w.admin), .seeOther)
            expectStatus(
                try await t.submitForm(
                    path, [("count", "1"), ("name-0", "Zoom"), ("approval-0", "callApprover"), ("name-new", "uTorrent"), ("approval-new", "never")],
                    session: w.admin), .seeOther)
            #expect(
                try await t.get(api).json["entries"].array.map { "\($0["name"].string ?? "")=\($0["approval"].string ?? "")" } == [
                    "Zoom=callApprover", "uTorrent=never",
                ])
            let listed = try await t.page("\(path)?notice=saved", session: w.admin)
            #expect(listed.text.contains("The unlicensed software list was saved.") && listed.text.contains("value=\"uTorrent\""))
            #expect(listed.text.contains("<option value=\"callApprover\" selected>Call Approver</option>"))

            // The same name twice (in another case): refused beside the new row, the rows kept.
            let twice = try await t.submitForm(
                path,
                [("count", "2"), ("name-0", "Zoom"), ("approval-0", "callApprover"), ("name-1", "uTorrent"), ("approval-1", "never"), ("name-new", " zoom")],
                session: w.admin)
            expectStatus(twice, .unprocessableEntity)
            #expect(twice.text.contains("id=\"name-new-error\">") && twice.text.contains("is listed twice"), "\(twice.text)")
            #expect(twice.text.contains("value=\" zoom\"") && twice.text.contains("Row 3"))
            let blank = try await t.submitForm(path, [("count", "1"), ("name-0", ""), ("approval-0", "never")], session: w.admin)
            expectStatus(blank, .unprocessableEntity)
            #expect(blank.text.contains("id=\"name-0-error\">"), "an emptied row is refused, not removed")
            #expect(try await t.get(api).json["entries"].array.count == 2)

            // Removing asks first, saying what changes; only the confirmation removes.
            let confirm = try await t.page("\(path)/remove?name=uTorrent", session: w.admin)
            expectStatus(confirm, .ok)
            #expect(confirm.text.contains("id=\"remove-consequence\"") && confirm.text.contains("uTorrent is listed as “Never”"))
            #expect(confirm.text.contains("goes to the MSP for approval"), "it says what the request falls back to")
            #expect(try await t.get(api).json["entries"].array.count == 2, "showing the confirmation changes nothing")
            expectStatus(try await t.page("\(path)/remove?name=Notepad", session: w.admin), .notFound)
            let removed = try await t.submitForm("\(path)/remove", [("name", "uTorrent")], session: w.admin)
            expectStatus(removed, .seeOther)
            #expect(removed.headers.first(name: .location) == "\(path)?notice=removed")
            #expect(try await t.get(api).json["entries"].array.map { $0["name"].string } == ["Zoom"])
            let audit = try await t.get("/api/v1/audit-events?limit=200").json["items"].array
            #expect(audit.filter { $0["action"] == "softwareApprovalsUpdated" }.count == 3)
        }
    }
}
