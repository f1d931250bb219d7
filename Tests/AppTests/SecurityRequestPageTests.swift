import Fluent
import Foundation
import Testing

@testable import App

/// Security requests in the browser: the technician's panel on the ticket page (open, enter a code,
/// no answer, escalate, decide) and the approver's own page, where the code sent to them approves or
/// denies without a session.
@Suite(.serialized) struct SecurityRequestPageTests {
    @Test func theTechnicianOpensARequestAndTheApproverAnswersOnTheirPage() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await SecurityRequestFlowTests.fixture(t, sink: sink)
            try await SecurityRequestFlowTests.configure(
                t, f, ["passwordReset": ["authenticateApprover": true, "approvers": [["kind": "contact", "id": .string(f.ben)]]]])
            _ = try await t.resource("tess")
            let session = try await t.pageSession("tess", TestApp.password)
            let ticketPage = "/tickets/\(f.ticket)"

            let page = try await t.page(ticketPage, session: session)
            #expect(page.text.contains("id=\"security-requests\""))
            #expect(page.text.contains("Open a security request"))

            // A refused form comes back with the problem beside its field and the input kept.
            let refused = try await t.submitForm(
                "\(ticketPage)/security-requests", [("category", "passwordReset"), ("details", "Locked out, please reset")], session: session)
            expectStatus(refused, .unprocessableEntity)
            #expect(refused.text.contains("id=\"sr-password-target-error\""))
            #expect(refused.text.contains("Locked out, please reset"))

            let opened = try await t.submitForm(
                "\(ticketPage)/security-requests",
                [("category", "passwordReset"), ("passwordTarget", "anotherUser"), ("subjectContactId", f.carl), ("details", "Locked out, please reset")],
                session: session)
            expectStatus(opened, .seeOther)
            let request = try #require(try await SecurityRequest.query(on: t.db).first())
            let requestId = try #require(request.id).uuidString
            let shown = try await t.page(ticketPage, session: session).text
            #expect(shown.contains("Asking the approvers"))
            #expect(shown.contains("Ben Backup: code sent to b•••@contoso.example"))

            let code = try await SecurityRequestFlowTests.code(t, f, to: "ben@contoso.example")
            // The approver's page: nothing about the request before the code; a wrong code is refused beside the field.
            let approverPage = try await t.get("/approvals/\(requestId)", as: "")
            expectStatus(approverPage, .ok)
            #expect(!approverPage.text.contains("Locked out"))
            let csrf = try #require(approverPage.text.firstMatch(of: /name="_csrf" value="([0-9a-f]{64})"/)?.1)
            let cookie = try #require(approverPage.headers.setCookie?[CSRF.loginCookie]?.string)
            func answer(_ code: String, _ decision: String, csrf: String) async throws -> Reply {
                try await t.send(
                    .POST, "/approvals/\(requestId)", as: "", raw: TestApp.formEncoded([("code", code), ("decision", decision), ("_csrf", csrf)]),
                    headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": "\(CSRF.loginCookie)=\(cookie)"])
            }
            expectStatus(try await answer(code, "approve", csrf: String(repeating: "0", count: 64)), .forbidden)
            let wrong = try await answer(String(format: "%06d", (Int(code)! + 7) % 1_000_000), "approve", csrf: String(csrf))
            expectStatus(wrong, .unprocessableEntity)
            #expect(wrong.text.contains("id=\"approval-code-error\""))
            let done = try await answer(code, "approve", csrf: String(csrf))
            expectStatus(done, .ok)
            #expect(done.text.contains("You approved the request: Password reset"))

            // The ticket shows the evidence.
            let after = try await t.page(ticketPage, session: session).text
            #expect(after.contains("Approved by Ben Backup, authenticated with their one-time code"))
            // Every step is in the ticket's conversation.
            for step in [
                "opened a security request: Password reset", "sent Ben Backup a one-time code by email to b•••@contoso.example",
                "a code was refused (wrong code; 4 attempts left)", "approved the security request", "moved the security request to “Approved”",
            ] {
                #expect(after.contains(step), "\(step)")
            }
            // The audit names the approver as who answered.
            let approved = try await AuditEvent.query(on: t.db).filter(\.$action == "approved").first()
            #expect(approved?.actorName == "Ben Backup")
        }
    }

    @Test func stepsOfTheTicketPagesPanel() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await SecurityRequestFlowTests.fixture(t, sink: sink)
            let (marta, _) = try await t.resource("marta")
            try await SecurityRequestFlowTests.configure(
                t, f,
                [
                    "newUserAccount": ["approvers": [["kind": "contact", "id": .string(f.ann)]]],
                    "agentInstallation": ["approvers": [["kind": "resource", "id": .string(marta)]]],
                ])
            let tess = try await t.pageSession("admin", TestApp.adminPassword)
            let ticketPage = "/tickets/\(f.ticket)"
            let id = try #require(try await SecurityRequestFlowTests.open(t, f, ["category": "newUserAccount", "details": "Dana starts Monday"])["id"].string)
            let base = "\(ticketPage)/security-requests/\(id)"
            // No answer twice: the second asks Ann again; the third is refused beside the request.
            expectStatus(try await t.submitForm("\(base)/unanswered", [], session: tess), .seeOther)
            expectStatus(try await t.submitForm("\(base)/unanswered", [], session: tess), .seeOther)
            #expect(try await SecurityRequestFlowTests.ticketStatus(t, f) == "waitingApproval")
            let wrongCode = try await t.submitForm("\(base)/verify", [("code", "abc")], session: tess)
            expectStatus(wrongCode, .unprocessableEntity)
            #expect(wrongCode.text.contains("-code-error"))
            expectStatus(try await t.submitForm("\(base)/escalate", [], session: tess), .seeOther)
            #expect(try await t.get("/api/v1/security-requests/\(id)").json["status"] == "escalatedToMSP")
            // The admin opened it (through the API): four eyes refuse their decision, on the page too.
            let own = try await t.submitForm("\(base)/decide", [("decision", "approve")], session: tess)
            expectStatus(own, .forbidden)
            let marthaSession = try await t.pageSession("marta", TestApp.password)
            let page = try await t.page(ticketPage, session: marthaSession).text
            #expect(!page.contains("Approve for the MSP"), "marta is not listed for new user accounts and has no full approvals")
            // A step posted under another ticket's page is unknown.
            let other = try await t.ticket(f.organization, "Other").id
            expectStatus(try await t.submitForm("/tickets/\(other)/security-requests/\(id)/escalate", [], session: tess), .notFound)
            expectStatus(try await t.submitForm("\(base)/frobnicate", [], session: tess), .notFound)
        }
    }
}
