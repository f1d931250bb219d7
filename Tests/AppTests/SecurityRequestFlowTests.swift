import Fluent
import Foundation
import TandemCore
import Testing

@testable import App

/// Security requests on tickets through the API (SPEC §8) with codes delivered to a real SMTP server
/// (aiosmtpd): approvers asked in order, codes by SMS gateway and email, wrong, expired, replayed and
/// foreign codes refused, two unanswered attempts → waiting approval, MSP-only approvers → escalation,
/// caller authentication, brute force, and who may see and work them.
@Suite(.serialized) struct SecurityRequestFlowTests {
    /// Contoso's HQ with three people: Ann (mobile and SMS gateway), Ben (email only), Carl (neither).
    struct Fixture {
        let organization: String
        let site: String
        let ann: String, ben: String, carl: String
        let ticket: String
        let sink: SMTPSink
    }

    static func fixture(_ t: TestApp, sink: SMTPSink) async throws -> Fixture {
        t.app.settings.mail = sink.settings()
        let organization = try await t.organization("Contoso")
        let site = try await t.site(organization, "HQ")
        let ann = try await t.profile(
            site, "Ann", "Approver", email: "ann@contoso.example", phone: "5550101",
            extra: ["phones": [["number": "5550101", "countryCode": "US", "kind": "mobile"]], "smsGateway": "txt.carrier.example"]
        ).id
        let ben = try await t.profile(site, "Ben", "Backup", email: "ben@contoso.example").id
        let carl = try await t.profile(site, "Carl", "Caller").id
        let ticket = try await t.ticket(organization, "Reset Carl's password", extra: ["siteId": .string(site), "contactId": .string(carl)]).id
        return Fixture(organization: organization, site: site, ann: ann, ben: ben, carl: carl, ticket: ticket, sink: sink)
    }

    static func configure(_ t: TestApp, _ f: Fixture, _ categories: JSON) async throws {
        try await t.must(.ok, .PUT, "/api/v1/sites/\(f.site)/security-requests", ["categories": categories])
    }

    static func open(_ t: TestApp, _ f: Fixture, _ body: JSON, as token: String? = nil) async throws -> JSON {
        try await t.must(.created, .POST, "/api/v1/tickets/\(f.ticket)/security-requests", body, as: token)
    }

    /// Delivers the outbox and answers the code in the next message to arrive for `to`.
    static func code(_ t: TestApp, _ f: Fixture, to: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        // The sink's list is not in arrival order: the new message is the one not there before.
        let earlier = Set(try f.sink.messages().filter { $0.to.contains(to) }.map(\.data))
        _ = try await OutboxDelivery.run(on: t.db, settings: t.app.settings, group: t.app.eventLoopGroup)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let message = try f.sink.messages().first(where: { $0.to.contains(to) && !earlier.contains($0.data) }),
                let match = message.data.firstMatch(of: /[Cc]ode(?: is|:)? (\d{6})/)
            {
                return String(match.1)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no code arrived for \(to)", sourceLocation: sourceLocation)
        throw TestSetupError("no code for \(to)")
    }

    static func verify(_ t: TestApp, _ id: String, _ code: String, decision: String? = nil, as token: String? = nil) async throws -> Reply {
        var body: JSON = ["code": .string(code)]
        if let decision { body = body.merging(["decision": .string(decision)]) }
        return try await t.post("/api/v1/security-requests/\(id)/codes/verify", body, as: token)
    }

    static func ticketStatus(_ t: TestApp, _ f: Fixture) async throws -> String? {
        try await t.get("/api/v1/tickets/\(f.ticket)").json["status"].string
    }

    static let passwordResetForCarl: JSON = ["category": "passwordReset", "passwordTarget": "anotherUser", "details": "Locked out after holidays"]

    @Test func anotherUsersPasswordAsksTheApproverBySMSAndTheCodeApprovesOnce() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await Self.fixture(t, sink: sink)
            // "No approval needed" for password resets does not cover another user's password.
            try await Self.configure(
                t, f,
                [
                    "passwordReset": [
                        "noApprovalNeeded": false, "authenticateApprover": true,
                        "approvers": [["kind": "contact", "id": .string(f.ann)], ["kind": "contact", "id": .string(f.ben)]],
                    ]
                ])
            let (_, technician) = try await t.resource("tess")
            let opened = try await Self.open(t, f, Self.passwordResetForCarl.merging(["subjectContactId": .string(f.carl)]), as: technician)
            let id = try #require(opened["id"].string)
            #expect(opened["status"] == "contacting")
            #expect(opened["reason"].string?.contains("another user's password always needs approval") == true)
            #expect(opened["attempts"].array.count == 1)
            #expect(opened["attempts"][0]["approver"]["name"] == "Ann Approver")
            #expect(opened["attempts"][0]["sentTo"] == "••••0101@txt.carrier.example")

            let code = try await Self.code(t, f, to: "5550101@txt.carrier.example")
            // The outbox keeps the code only until it is sent.
            let sent = try await OutboxMessage.query(on: t.db).all()
            #expect(sent.count == 1 && sent[0].channel == .sms && sent[0].state == .sent && sent[0].body.isEmpty)
            #expect(try await OneTimeCodeRow.query(on: t.db).all().allSatisfy { !$0.hash.contains(code) && $0.hash.count == 64 })

            let wrong = String(format: "%06d", (Int(code)! + 1) % 1_000_000)
            expectProblem(try await Self.verify(t, id, wrong, as: technician), .unprocessableEntity, field: "code", contains: "4 attempts left")
            let approved = try await t.must(.ok, .POST, "/api/v1/security-requests/\(id)/codes/verify", ["code": .string(code)], as: technician)
            #expect(approved["status"] == "approved")
            #expect(approved["evidence"]["approver"]["name"] == "Ann Approver")
            #expect(approved["evidence"]["authentication"] == "oneTimeCode")
            #expect(approved["evidence"]["approved"] == true)
            // Replayed: refused, and nothing changes.
            expectProblem(try await Self.verify(t, id, code, as: technician), .conflict, contains: "already approved")

            // Every step is on the ticket's history and in the audit log; the code never is.
            let audit = try await t.get("/api/v1/audit-events?limit=200").json["items"].array.filter { $0["entityType"] == "security_requests" }
            #expect(audit.map(\.["action"]).compactMap(\.string) == ["opened", "codeSent", "codeRefused", "approved", "statusChanged"])
            #expect(!(try await t.get("/api/v1/audit-events?limit=200").text.contains(code)))
            let events = try await t.get("/api/v1/events?limit=200").json["items"].array.map(\.["type"])
            #expect(events.contains("securityRequest.opened") && events.contains("securityRequest.statusChanged"))
            // The list on the ticket.
            let list = try await t.must(.ok, .GET, "/api/v1/tickets/\(f.ticket)/security-requests", as: technician)
            #expect(list["items"].array.map(\.["id"]) == [.string(id)])
        }
    }

    @Test func twoUnansweredAttemptsWaitThenTheSecondApproverDeniesByEmail() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await Self.fixture(t, sink: sink)
            try await Self.configure(
                t, f, ["passwordReset": ["approvers": [["kind": "contact", "id": .string(f.ann)], ["kind": "contact", "id": .string(f.ben)]]]])
            let id = try #require(try await Self.open(t, f, Self.passwordResetForCarl)["id"].string)
            let annCode = try await Self.code(t, f, to: "5550101@txt.carrier.example")

            let second = try await t.must(.ok, .POST, "/api/v1/security-requests/\(id)/unanswered")
            #expect(second["status"] == "contacting")
            #expect(second["attempts"].array.map { $0["approver"]["name"] } == ["Ann Approver", "Ben Backup"])
            #expect(second["attempts"][0]["unanswered"] == true)
            #expect(second["attempts"][1]["sentTo"] == "b•••@contoso.example")
            let benCode = try await Self.code(t, f, to: "ben@contoso.example")
            let mail = try #require(try sink.messages().first { $0.to.contains("ben@contoso.example") })
            #expect(mail.header("Subject") == "Approval needed: Password reset")
            #expect(mail.data.contains("/approvals/\(id.lowercased())"))

            let waiting = try await t.must(.ok, .POST, "/api/v1/security-requests/\(id)/unanswered")
            #expect(waiting["status"] == "waitingApproval")
            #expect(try await Self.ticketStatus(t, f) == "waitingApproval")
            expectProblem(try await t.post("/api/v1/security-requests/\(id)/unanswered", [:]), .conflict)

            // A code of another request is wrong here (codes are bound to their request).
            let other = try #require(try await Self.open(t, f, Self.passwordResetForCarl)["id"].string)
            let otherCode = try await Self.code(t, f, to: "5550101@txt.carrier.example")
            #expect(otherCode != annCode)
            expectProblem(try await Self.verify(t, id, otherCode), .unprocessableEntity, field: "code")
            _ = other

            // While the ticket waits, either approver may still answer with their code.
            let denied = try await t.must(.ok, .POST, "/api/v1/security-requests/\(id)/codes/verify", ["code": .string(benCode), "decision": "deny"])
            #expect(denied["status"] == "denied")
            #expect(denied["evidence"]["approver"]["name"] == "Ben Backup")
            #expect(try await Self.ticketStatus(t, f) == "inProgress")
            expectProblem(try await Self.verify(t, id, annCode), .conflict)
        }
    }

    @Test func onlyMSPApproversEscalateAndAnotherResourceDecides() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await Self.fixture(t, sink: sink)
            let (marta, martaToken) = try await t.resource("marta")
            let (_, tess) = try await t.resource("tess")
            try await Self.configure(t, f, ["agentInstallation": ["approvers": [["kind": "resource", "id": .string(marta)]]]])
            let opened = try await Self.open(t, f, ["category": "agentInstallation", "details": "Install the RMM agent on the new laptop"], as: tess)
            let id = try #require(opened["id"].string)
            #expect(opened["status"] == "escalatedToMSP" && opened["escalatesToMSP"] == true)
            #expect(try await Self.ticketStatus(t, f) == "escalated")
            #expect(try await OutboxMessage.query(on: t.db).count() == 0, "nobody on the client's side is asked")

            // Whoever opened it cannot approve it; an unlisted technician cannot either; the listed one can.
            expectProblem(try await t.post("/api/v1/security-requests/\(id)/decision", ["decision": "approve"], as: tess), .forbidden)
            expectProblem(
                try await t.post("/api/v1/security-requests/\(id)/decision", ["decision": "maybe"], as: martaToken), .unprocessableEntity, field: "decision")
            let approved = try await t.must(.ok, .POST, "/api/v1/security-requests/\(id)/decision", ["decision": "approve"], as: martaToken)
            #expect(approved["status"] == "approved")
            #expect(approved["evidence"]["authentication"] == "signedIn")
            #expect(approved["evidence"]["approver"]["name"] == "Marta Tester")
            #expect(try await Self.ticketStatus(t, f) == "inProgress")

            // A Tier 4 change goes to the MSP even when the site lists its own approvers.
            try await Self.configure(t, f, ["tier4": ["approvers": [["kind": "resource", "id": .string(marta)]]]])
            let tier4 = try await Self.open(t, f, ["category": "tier4", "tier4Change": "firewallListing", "details": "Allow the new VoIP range"], as: tess)
            #expect(tier4["status"] == "escalatedToMSP")
            // An administrator (full approvals) decides without being listed.
            let decided = try await t.must(.ok, .POST, "/api/v1/security-requests/\(tier4["id"].string!)/decision", ["decision": "deny"])
            #expect(decided["status"] == "denied")
        }
    }

    @Test func callerAuthenticationNeedsAMobileWithGatewayAndTheirCode() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await Self.fixture(t, sink: sink)
            try await Self.configure(t, f, ["passwordReset": ["noApprovalNeeded": true, "authenticateCaller": true]])
            let own: JSON = ["category": "passwordReset", "passwordTarget": "own", "details": "Forgot it"]

            // Carl, the ticket's contact, has no mobile: refused with what is missing, nothing written.
            let before = try await t.count(SecurityRequest.schema)
            expectProblem(
                try await t.post("/api/v1/tickets/\(f.ticket)/security-requests", own), .unprocessableEntity, field: "callerAuthentication",
                contains: "no mobile number and no SMS gateway")
            #expect(try await t.count(SecurityRequest.schema) == before)
            #expect(try await t.count(OneTimeCodeRow.schema) == 0)

            // Ann calls: her code goes to her mobile's gateway; entering it proceeds.
            let opened = try await Self.open(t, f, own.merging(["callerContactId": .string(f.ann)]))
            let id = try #require(opened["id"].string)
            #expect(opened["status"] == "callerAuthentication")
            #expect(opened["callerCodeSentTo"] == "••••0101@txt.carrier.example")
            let code = try await Self.code(t, f, to: "5550101@txt.carrier.example")
            #expect(try sink.messages().contains { $0.data.contains("verification code is \(code)") })
            expectProblem(try await t.post("/api/v1/security-requests/\(id)/unanswered", [:]), .conflict, contains: "authenticate the caller first")
            let proceeded = try await t.must(.ok, .POST, "/api/v1/security-requests/\(id)/codes/verify", ["code": .string(code)])
            #expect(proceeded["status"] == "proceed")
            #expect(proceeded["callerAuthenticatedAt"].string != nil)
        }
    }

    @Test func expiredCodesAreRefusedAndANewCodeWorks() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let clock = SetClock()
        try await withApp(clock: clock) { t in
            let f = try await Self.fixture(t, sink: sink)
            try await Self.configure(t, f, ["passwordReset": ["approvers": [["kind": "contact", "id": .string(f.ben)]]]])
            let id = try #require(try await Self.open(t, f, Self.passwordResetForCarl)["id"].string)
            let first = try await Self.code(t, f, to: "ben@contoso.example")
            clock.advance(by: OneTimeCode.lifetime + 1)
            expectProblem(try await Self.verify(t, id, first), .conflict, contains: "expired")
            try await t.must(.ok, .POST, "/api/v1/security-requests/\(id)/codes")
            let second = try await Self.code(t, f, to: "ben@contoso.example")
            expectProblem(try await Self.verify(t, id, first), .unprocessableEntity, field: "code")
            #expect(try await t.must(.ok, .POST, "/api/v1/security-requests/\(id)/codes/verify", ["code": .string(second)])["status"] == "approved")
        }
    }

    @Test func aHundredParallelWrongCodesNeverApproveAndLockTheCode() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await Self.fixture(t, sink: sink)
            try await Self.configure(t, f, ["passwordReset": ["approvers": [["kind": "contact", "id": .string(f.ben)]]]])
            let id = try #require(try await Self.open(t, f, Self.passwordResetForCarl)["id"].string)
            let code = try await Self.code(t, f, to: "ben@contoso.example")
            let wrong = (1...100).map { String(format: "%06d", (Int(code)! + $0) % 1_000_000) }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for candidate in wrong { group.addTask { Int(try await Self.verify(t, id, candidate).status.code) } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 422 || $0 == 409 }, "\(Set(statuses))")
            #expect(statuses.filter { $0 == 422 }.count == OneTimeCode.maxAttempts)
            // Locked: the right code is refused too.
            expectProblem(try await Self.verify(t, id, code), .conflict, contains: "locked")
            #expect(try await t.get("/api/v1/security-requests/\(id)").json["status"] == "contacting")
            #expect(try await OneTimeCodeRow.query(on: t.db).all().allSatisfy { $0.attemptsLeft == 0 && $0.usedAt == nil })
        }
    }

    @Test func softwareRequestsConsultTheUnlicensedSoftwareListFirst() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await Self.fixture(t, sink: sink)
            try await Self.configure(t, f, ["softwareInstallation": ["approvers": [["kind": "contact", "id": .string(f.ben)]]]])
            try await t.must(
                .ok, .PUT, "/api/v1/sites/\(f.site)/software-approvals",
                [
                    "entries": [
                        ["name": "Notepad++", "approval": "install"], ["name": "BitTorrent", "approval": "never"],
                        ["name": "Visio", "approval": "callApprover"],
                    ]
                ])
            func open(_ software: String) async throws -> JSON {
                try await Self.open(t, f, ["category": "softwareInstallation", "software": .string(software), "details": "For the new hire"])
            }
            #expect(try await open("notepad++")["status"] == "proceed")
            let never = try await open("BitTorrent")
            #expect(never["status"] == "refused" && never["reason"].string?.contains("never installed") == true)
            #expect(try await open("Visio")["status"] == "contacting")
            // Not on the list: the category's settings decide (here: Ben approves).
            #expect(try await open("7-Zip")["attempts"][0]["approver"]["name"] == "Ben Backup")
        }
    }

    @Test func whoMaySeeAndWorkRequests() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await withApp { t in
            let f = try await Self.fixture(t, sink: sink)
            let fabrikam = try await t.organization("Fabrikam")
            let id = try #require(try await Self.open(t, f, ["category": "newUserAccount", "details": "Dana starts Monday"])["id"].string)
            let (_, restricted) = try await t.resource("rita", restrictions: [fabrikam])
            let (_, dispatcher) = try await t.resource("dora", .dispatcher)
            let portal = try await t.portalLogin(f.carl, email: "carl@contoso.example")
            for (token, path) in [(restricted, "/api/v1/security-requests/\(id)"), (portal, "/api/v1/security-requests/\(id)")] {
                expectProblem(try await t.get(path, as: token), .notFound)
            }
            expectProblem(try await t.get("/api/v1/tickets/\(f.ticket)/security-requests", as: restricted), .notFound)
            expectProblem(
                try await t.post("/api/v1/tickets/\(f.ticket)/security-requests", ["category": "newUserAccount", "details": "x"], as: portal), .notFound)
            // A dispatcher reads them (approvals: view) but opens none.
            expectStatus(try await t.get("/api/v1/security-requests/\(id)", as: dispatcher), .ok)
            expectProblem(
                try await t.post("/api/v1/tickets/\(f.ticket)/security-requests", ["category": "newUserAccount", "details": "x"], as: dispatcher), .forbidden)
            expectProblem(try await t.post("/api/v1/security-requests/\(id)/escalate", [:], as: dispatcher), .forbidden)
            // A read-only member of the ticket's team reads the ticket and its requests, but starts or moves none (a
            // step changes the ticket's status and sends codes).
            let (hana, hanaToken) = try await t.resource("hana", .helpDesk)
            let team = try await t.create("/api/v1/teams", ["name": "Onsite", "members": [["principalId": .string(hana), "access": "readOnly"]]]).id
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(f.ticket)", ["teamId": .string(team)])
            expectStatus(try await t.get("/api/v1/tickets/\(f.ticket)/security-requests", as: hanaToken), .ok)
            expectProblem(
                try await t.post("/api/v1/tickets/\(f.ticket)/security-requests", ["category": "newUserAccount", "details": "x"], as: hanaToken), .forbidden)
            expectProblem(try await t.post("/api/v1/security-requests/\(id)/escalate", [:], as: hanaToken), .forbidden)
            // Bad bodies name their field and write nothing.
            let before = try await t.count(SecurityRequest.schema)
            for (body, field) in [
                (["category": "coffee", "details": "x"] as JSON, "category"), (["category": "passwordReset", "details": "x"], "passwordTarget"),
                (["category": "newUserAccount"], "details"), (["category": "newUserAccount", "details": "x", "subjectContactId": "nope"], "subjectContactId"),
                (["category": "softwareInstallation", "details": "x"], "software"),
            ] {
                expectProblem(try await t.post("/api/v1/tickets/\(f.ticket)/security-requests", body), .unprocessableEntity, field: field)
            }
            let stranger = try await t.contact(fabrikam, "Fred")
            expectProblem(
                try await t.post(
                    "/api/v1/tickets/\(f.ticket)/security-requests", ["category": "newUserAccount", "details": "x", "subjectContactId": .string(stranger)]),
                .unprocessableEntity, field: "subjectContactId")
            #expect(try await t.count(SecurityRequest.schema) == before)
            // A ticket without a site cannot have one.
            let siteless = try await t.ticket(f.organization, "No site").id
            expectProblem(
                try await t.post("/api/v1/tickets/\(siteless)/security-requests", ["category": "newUserAccount", "details": "x"]), .unprocessableEntity,
                field: "ticketId")
        }
    }
}
