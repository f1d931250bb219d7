import Fluent
import Foundation
import TandemCore
import Vapor

/// The technician's security request panel on the ticket page: the ticket's requests with their
/// attempts and approval evidence, the steps each allows (enter a code, no answer, new code,
/// escalate, decide for the MSP), and the form that opens one. Every step calls `SecurityRequests`,
/// the same functions as the API.
enum SecurityRequestPanel {
    struct Model: Encodable, Sendable {
        var ticketId: String
        /// The page's CSRF token (the panel is rendered with its own model, not the page's).
        var csrf: String?
        var requests: [Item]
        var open: OpenForm?
        /// The site's and the global references tagged `security-related-requests` the reader may read.
        var guides: [ReferencePages.TagLink] = []
    }

    struct Item: Encodable, Sendable {
        var id: String
        var anchor: String
        var category: String
        var status: String
        var statusKey: String
        var reason: String
        var details: String
        var requestedBy: String
        var when: String
        var whenISO: String
        var approvers: String?
        var caller: String?
        var attempts: [String]
        var evidence: String?
        var steps: Steps?
        var feedback: FormFeedback?
    }

    /// The forms a request offers the principal now.
    struct Steps: Encodable, Sendable {
        var enterCode: Bool
        /// The code is an approver's: the form asks approve or deny.
        var codeDecides: Bool
        var resend: Bool
        var unanswered: Bool
        var escalate: Bool
        var decide: Bool
    }

    struct OpenForm: Encodable, Sendable {
        var categories: [SelectOption]
        var passwordTargets: [SelectOption]
        var tier4Changes: [SelectOption]
        var subjects: [SelectOption]
        var callers: [SelectOption]
        var details: String
        var software: String
        var feedback: FormFeedback?
        var open: Bool
    }

    /// What a refused form leaves for the page: the open form's input, or the request whose step failed.
    struct Draft: Sendable {
        var input: SecurityRequests.OpenInput?
        var requestId: UUID?
        var feedback: FormFeedback
    }

    // MARK: Query

    static func model(for ticket: TicketDTO, principal: Principal, csrf: String?, draft: Draft?, zone: PageZone, on db: any Database) async throws -> Model? {
        guard (try? AccessPolicy.authorizeSecurityRequests(principal, .view)) != nil, let id = UUID(uuidString: ticket.id) else { return nil }
        let requests = try await SecurityRequests.list(ticketId: id, by: principal, on: db)
        let mayWork = (try? AccessPolicy.authorizeSecurityRequests(principal, .create)) != nil
        let names = try await contactNames(of: requests, ticket: ticket, principal: principal, on: db)
        let items = requests.map { request in
            item(
                request, names: names, steps: mayWork ? steps(request, principal: principal) : nil,
                feedback: draft?.requestId == request.id ? draft?.feedback : nil, zone: zone)
        }
        var open: OpenForm?
        if mayWork && ticket.siteId != nil {
            open = try await openForm(ticket, principal: principal, draft: draft?.requestId == nil ? draft : nil, on: db)
        }
        guard !items.isEmpty || open != nil else { return nil }
        var guides: [ReferencePages.TagLink] = []
        if let siteId = ticket.siteId.flatMap(UUID.init(uuidString:)) {
            guides = try await ReferencesCollection.forSite(siteId, tag: ReferenceContent.Tag.securityRelatedRequests, by: principal, on: db).map {
                ReferencePages.TagLink(name: $0.title, url: PageRoutes.reference.url($0.id!))
            }
        }
        return Model(ticketId: ticket.id, csrf: csrf, requests: items, open: open, guides: guides)
    }

    static func item(_ request: SecurityRequestDTO, names: [UUID: String], steps: Steps?, feedback: FormFeedback?, zone: PageZone) -> Item {
        func who(_ person: SecurityRequestDTO.Person) -> String { person.name ?? "someone who no longer exists" }
        var caller: String?
        if request.authenticateCaller {
            let name = request.callerContactId.flatMap { names[$0] } ?? "the caller"
            if let at = request.callerAuthenticatedAt {
                caller = "\(name) was authenticated with the code sent to their mobile, \(PageFormat.date(at, in: zone))."
            } else {
                caller = "Waiting for \(name)'s code, sent to \(request.callerCodeSentTo ?? "their mobile")."
            }
        }
        let attempts = request.attempts.map { attempt in
            let sent = attempt.sentTo.map { "code sent to \($0)" } ?? "no code could be sent (no mobile with SMS gateway, no email): call them"
            return "\(who(attempt.approver)): \(sent), \(PageFormat.date(attempt.at, in: zone))\(attempt.unanswered ? "; no answer" : "")"
        }
        let evidence = request.evidence.map { evidence in
            let how =
                switch evidence.authentication {
                case .oneTimeCode: "authenticated with their one-time code"
                case .signedIn: "signed in"
                case .none: "not authenticated (answer recorded by the technician)"
                }
            return "\(evidence.approved ? "Approved" : "Denied") by \(who(evidence.approver)), \(how), \(PageFormat.date(evidence.at, in: zone))."
        }
        let approvers =
            request.approvers.isEmpty
            ? nil : request.approvers.map { "\(who($0))\($0.approver.isMSP ? " (MSP)" : "")" }.joined(separator: ", then ")
        return Item(
            id: request.id.uuidString, anchor: "security-request-\(request.id.uuidString.lowercased())", category: request.categoryTitle,
            status: request.statusTitle, statusKey: request.status.rawValue, reason: request.reason.prefix(1).uppercased() + request.reason.dropFirst(),
            details: request.details,
            requestedBy: request.requestedByName, when: PageFormat.date(request.createdAt, in: zone), whenISO: PageFormat.isoDate(request.createdAt),
            approvers: approvers, caller: caller, attempts: attempts, evidence: evidence, steps: steps, feedback: feedback)
    }

    static func steps(_ request: SecurityRequestDTO, principal: Principal) -> Steps? {
        let status = request.status
        guard !status.isFinal else { return nil }
        let asking = status == .contacting || status == .waitingApproval
        let listed = request.approvers.map(\.approver).listsMSPApprover(principal.id)
        let decides = (try? AccessPolicy.authorizeMSPApproval(principal, listed: listed, requestedBy: request.requestedBy)) != nil
        return Steps(
            enterCode: status == .callerAuthentication || asking, codeDecides: asking,
            resend: status == .callerAuthentication || (asking && !request.attempts.isEmpty),
            unanswered: status == .contacting && !request.attempts.isEmpty, escalate: asking, decide: status == .escalatedToMSP && decides)
    }

    static func openForm(_ ticket: TicketDTO, principal: Principal, draft: Draft?, on db: any Database) async throws -> OpenForm {
        let input = draft?.input
        let contacts = try await Contact.query(on: db).filter(\.$organizationId == UUID(uuidString: ticket.organizationId)!)
            .filter(AccessPolicy.peopleScope(for: principal, .contact), on: Contact.scopeTable).sort(\.$lastName).sort(\.$firstName).limit(200).all()
        func options(_ selected: String?, none: String) -> [SelectOption] {
            [SelectOption(value: "", label: none, selected: (selected ?? "").isEmpty)]
                + contacts.map { SelectOption(value: $0.id!.uuidString, label: $0.fullName, selected: $0.id!.uuidString == selected) }
        }
        let categories = SecurityCategory.allCases.map { SelectOption(value: $0.rawValue, label: $0.title, selected: $0.rawValue == input?.category) }
        let targets: [(String, String)] = [
            ("", "—"), ("own", "The caller's own"), ("anotherUser", "Another user's"), ("shared", "A shared account's"), ("admin", "An administrator's"),
        ]
        let passwordTargets = targets.map { SelectOption(value: $0.0, label: $0.1, selected: $0.0 == (input?.passwordTarget ?? "")) }
        let changes: [(String, String)] = [("", "—")] + Tier4Change.allCases.map { ($0.rawValue, $0.title) }
        let tier4Changes = changes.map { SelectOption(value: $0.0, label: $0.1, selected: $0.0 == (input?.tier4Change ?? "")) }
        return OpenForm(
            categories: categories, passwordTargets: passwordTargets, tier4Changes: tier4Changes,
            subjects: options(input?.subjectContactId, none: "Nobody in particular"),
            callers: options(input?.callerContactId, none: "The ticket's contact"),
            details: input?.details ?? "", software: input?.software ?? "", feedback: draft?.feedback, open: draft != nil)
    }

    /// The names of the callers the panel mentions, as the principal may see them.
    static func contactNames(of requests: [SecurityRequestDTO], ticket: TicketDTO, principal: Principal, on db: any Database) async throws -> [UUID: String] {
        let ids = requests.compactMap(\.callerContactId)
        guard !ids.isEmpty else { return [:] }
        let contacts = try await Contact.query(on: db).filter(\.$id ~~ ids).filter(AccessPolicy.peopleScope(for: principal, .contact), on: Contact.scopeTable)
            .all()
        return Dictionary(uniqueKeysWithValues: contacts.map { ($0.id!, $0.fullName) })
    }

    // MARK: Handlers

    static func register(_ session: any RoutesBuilder) {
        session.post(PageRoutes.ticketSecurityRequests.pathComponents, use: open)
        session.post(PageRoutes.ticketSecurityRequestStep.pathComponents, use: step)
    }

    struct OpenFormInput: Decodable, Sendable {
        var category: String?
        var passwordTarget: String?
        var tier4Change: String?
        var software: String?
        var subjectContactId: String?
        var callerContactId: String?
        var details: String?

        /// Empty selects and fields are left out, as the API would not get them.
        var input: SecurityRequests.OpenInput {
            func given(_ text: String?) -> String? { (text ?? "").trimmingCharacters(in: .whitespaces).isEmpty ? nil : text }
            return SecurityRequests.OpenInput(
                category: category, subjectContactId: given(subjectContactId), callerContactId: given(callerContactId), details: details,
                passwordTarget: given(passwordTarget), software: given(software), tier4Change: given(tier4Change))
        }
    }

    @Sendable static func open(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let input = try req.content.decode(OpenFormInput.self).input
        do {
            let request = try await SecurityRequests.open(id, input, by: req.principal, settings: req.settings, on: req.db)
            return req.seeOther(
                PageURL.with(PageURL.ticket(id).path, query: [("notice", "securityRequest")]) + "#security-request-\(request.id.uuidString.lowercased())")
        } catch let error as TandemError where error.isFormProblem {
            return try await TicketDetailPage.render(
                req, id: id, draft: TicketDetailPage.Draft(securityRequest: Draft(input: input, feedback: FormFeedback(error))), status: error.pageStatus)
        }
    }

    struct StepForm: Decodable, Sendable {
        var code: String?
        var decision: String?
    }

    @Sendable static func step(_ req: Request) async throws -> Response {
        let id = try req.id("id", TicketService.what)
        let requestId = try req.id("requestId", SecurityRequests.what)
        let form = try req.content.decode(StepForm.self)
        let principal = try req.principal, settings = req.settings, db = req.db
        do {
            // The request must be this ticket's: a step posted under another ticket's page is unknown.
            guard try await SecurityRequests.visible(requestId, by: principal, on: db).ticketId == id else {
                throw TandemError.notFound(SecurityRequests.what)
            }
            let approve = form.decision != "deny"
            let step = req.parameters.get("step")
            switch step {
            case "verify":
                _ = try await SecurityRequests.verify(requestId, code: form.code ?? "", approve: approve, by: principal, settings: settings, on: db)
            case "resend": _ = try await SecurityRequests.resend(requestId, by: principal, settings: settings, on: db)
            case "unanswered": _ = try await SecurityRequests.act(requestId, .unanswered, by: principal, settings: settings, on: db)
            case "escalate": _ = try await SecurityRequests.act(requestId, .escalate, by: principal, settings: settings, on: db)
            case "decide": _ = try await SecurityRequests.act(requestId, .decideForMSP(approve: approve), by: principal, settings: settings, on: db)
            default: throw TandemError.notFound("page")
            }
            return req.seeOther(
                PageURL.with(PageURL.ticket(id).path, query: [("notice", "securityRequestStep")]) + "#security-request-\(requestId.uuidString.lowercased())")
        } catch let error as TandemError where error.isFormProblem {
            return try await TicketDetailPage.render(
                req, id: id, draft: TicketDetailPage.Draft(securityRequest: Draft(requestId: requestId, feedback: FormFeedback(error))),
                status: error.pageStatus)
        }
    }
}

extension SecurityRequestPanel {
    /// Every step of the ticket's security requests, for its conversation: what the audit log recorded, in
    /// words, with actors the principal may not see named by kind only (as the ticket's history does).
    static func timelineEntries(_ ticketId: UUID, by principal: Principal, zone: PageZone, on db: any Database) async throws -> [TicketTimeline.Entry] {
        guard (try? AccessPolicy.authorizeSecurityRequests(principal, .view)) != nil else { return [] }
        let events = try await AuditEvent.query(on: db).filter(\.$ticketId == ticketId).filter(\.$entityType == SecurityRequest.schema)
            .sort(\.$at).sort(\.$id).limit(TicketTimeline.maxEvents).all()
        let people = try await PeopleDirectory.visible(events.compactMap(\.actorId), to: principal, on: db)
        return events.map { event in
            let after = ChangeDescriber.object(event.after) ?? [:]
            let text = { (key: String) in after[key] as? String ?? "" }
            let sentence: String =
                switch event.action {
                case "opened":
                    "opened a security request: \((after["category"] as? String).flatMap(SecurityCategory.init(rawValue:))?.title ?? "")"
                case "codeSent": "sent \(text("to")) a one-time code by \(text("via")) to \(text("address"))"
                case "codeNotSent": "could not send \(text("to")) a code: \(text("address"))"
                case "codeRefused": "a code was refused (\(text("reason")))"
                case "callerAuthenticated": "authenticated the caller with the code sent to their mobile"
                case "unanswered": "recorded that the approver did not answer"
                case "escalated": "escalated the security request to the MSP"
                case "approved": "approved the security request"
                case "denied": "denied the security request"
                case "statusChanged":
                    "moved the security request to “\((after["status"] as? String).flatMap(SecurityRequestProgress.Status.init(rawValue:))?.title ?? "")”"
                default: event.action
                }
            let author =
                event.actorId.map { people.contains($0) ? event.actorName : PeopleDirectory.anonymous(event.actorKind.flatMap(PrincipalKind.init(rawValue:))) }
                ?? (event.action == "codeRefused" ? "The approver's page" : event.actorName)
            var entry = TicketTimeline.entry(
                "security-\(event.id!.uuidString.lowercased())", kind: "security", label: "Security request", author: author, at: event.at,
                publishTo: PublishTo.internalAndCoManaged.rawValue, body: "", zone: zone)
            entry.changes = [sentence]
            return entry
        }
    }
}
