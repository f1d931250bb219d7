import Foundation
import TandemCore
import Testing

/// The decision engine of security-related requests (SPEC §8): every category under every approver
/// setup and authentication flag, the Tier 4 overrides, password resets and unlicensed software.
@Suite struct SecurityRequestTests {
    static let ann = SecurityApprover(.contact, UUID())
    static let bob = SecurityApprover(.contact, UUID())
    static let group = SecurityApprover(.groupContact, UUID())
    static let msp = SecurityApprover(.resource, UUID())

    /// Approver setups a site can choose, and whether a client approver is among them.
    static let setups: [(name: String, noApproval: Bool, approvers: [SecurityApprover])] = [
        ("no approval needed", true, []),
        ("unset", false, []),
        ("one contact", false, [ann]),
        ("two contacts", false, [ann, bob]),
        ("a group contact", false, [group]),
        ("an MSP approver only", false, [msp]),
        ("a contact then the MSP", false, [ann, msp]),
    ]

    static func facts(_ category: SecurityCategory) -> SecurityRequestFacts {
        switch category {
        case .passwordReset: SecurityRequestFacts(category, passwordTarget: .own)
        case .softwareInstallation: SecurityRequestFacts(category, software: "Notepad++")
        case .tier4: SecurityRequestFacts(category, tier4Change: .firewallListing)
        default: SecurityRequestFacts(category)
        }
    }

    @Test(arguments: SecurityCategory.allCases)
    func everyCategoryUnderEverySetupAndFlag(_ category: SecurityCategory) {
        for setup in Self.setups where !(category == .tier4 && setup.noApproval) {
            for authenticateCaller in [false, true] {
                for authenticateApprover in [false, true] {
                    let settings = SiteSecuritySettings([
                        category: SecurityCategorySettings(
                            noApprovalNeeded: setup.noApproval, approvers: setup.approvers, authenticateCaller: authenticateCaller,
                            authenticateApprover: authenticateApprover)
                    ])
                    let decision = SecurityDecision.decide(Self.facts(category), settings: settings)
                    let label = "\(category) with \(setup.name), caller \(authenticateCaller), approver \(authenticateApprover)"
                    #expect(decision.authenticateCaller == authenticateCaller, "\(label)")
                    if category == .tier4 {
                        // Only MSP approvers are asked, and the MSP decides.
                        #expect(
                            decision.outcome
                                == .approval(
                                    ApprovalPlan(approvers: setup.approvers.filter(\.isMSP), authenticateApprover: authenticateApprover, escalatesToMSP: true)),
                            "\(label)")
                    } else if setup.noApproval {
                        #expect(decision.outcome == .proceed, "\(label)")
                    } else {
                        let clientApprover = setup.approvers.contains { $0.kind != .resource }
                        #expect(
                            decision.outcome
                                == .approval(
                                    ApprovalPlan(approvers: setup.approvers, authenticateApprover: authenticateApprover, escalatesToMSP: !clientApprover)),
                            "\(label)")
                    }
                }
            }
        }
    }

    @Test func tier4OverridesWhateverTheSiteSays() throws {
        // Even a site whose settings would let other changes through: each Tier 4 change goes to the MSP.
        let permissive = SiteSecuritySettings(
            Dictionary(uniqueKeysWithValues: SecurityCategory.allCases.filter { $0 != .tier4 }.map { ($0, SecurityCategorySettings(noApprovalNeeded: true)) }))
        for change in Tier4Change.allCases {
            let decision = SecurityDecision.decide(SecurityRequestFacts(.tier4, tier4Change: change), settings: permissive)
            guard case .approval(let plan) = decision.outcome else { Issue.record("\(change): \(decision.outcome)"); continue }
            #expect(plan.escalatesToMSP && plan.approvers.isEmpty, "\(change)")
            #expect(decision.reason.contains("MSP"))
        }
        // And a site cannot say "no approval needed" for Tier 4.
        #expect(throws: TandemError.self) { try SiteSecuritySettings([.tier4: SecurityCategorySettings(noApprovalNeeded: true)]).validate() }
    }

    @Test func passwordResets() {
        let noApproval = SiteSecuritySettings([.passwordReset: SecurityCategorySettings(noApprovalNeeded: true)])
        let approvers = SiteSecuritySettings([.passwordReset: SecurityCategorySettings(approvers: [Self.ann, Self.bob], authenticateApprover: true)])
        func outcome(_ target: PasswordResetTarget, _ settings: SiteSecuritySettings) -> SecurityDecision.Outcome {
            SecurityDecision.decide(SecurityRequestFacts(.passwordReset, passwordTarget: target), settings: settings).outcome
        }
        // Own password with "no approval needed" proceeds; with approvers listed they are asked.
        #expect(outcome(.own, noApproval) == .proceed)
        #expect(outcome(.own, approvers) == .approval(ApprovalPlan(approvers: [Self.ann, Self.bob], authenticateApprover: true, escalatesToMSP: false)))
        // Another user's or a shared password always needs approval: with nobody named, the MSP's.
        for target in [PasswordResetTarget.anotherUser, .shared] {
            #expect(outcome(target, noApproval) == .approval(ApprovalPlan(approvers: [], authenticateApprover: false, escalatesToMSP: true)), "\(target)")
            #expect(outcome(target, approvers) == .approval(ApprovalPlan(approvers: [Self.ann, Self.bob], authenticateApprover: true, escalatesToMSP: false)))
        }
        // An admin password is a Tier 4 change.
        for settings in [noApproval, approvers] {
            guard case .approval(let plan) = outcome(.admin, settings) else { Issue.record("admin password proceeds"); continue }
            #expect(plan.escalatesToMSP && plan.approvers.isEmpty)
        }
        #expect(throws: TandemError.self) { try SecurityRequestFacts(.passwordReset).validate() }
    }

    @Test func softwareConsultsTheUnlicensedSoftwareListFirst() {
        let list = UnlicensedSoftwareList([.init("Notepad++", .install), .init("Zoom", .callApprover), .init("uTorrent", .never)])
        let requireApproval = SiteSecuritySettings([.softwareInstallation: SecurityCategorySettings(approvers: [Self.ann])])
        let noApproval = SiteSecuritySettings([.softwareInstallation: SecurityCategorySettings(noApprovalNeeded: true)])
        func decide(_ name: String, _ settings: SiteSecuritySettings) -> SecurityDecision.Outcome {
            SecurityDecision.decide(SecurityRequestFacts(.softwareInstallation, software: name), settings: settings, software: list).outcome
        }
        // Matched regardless of case and spacing; "install" proceeds even where the category asks approval.
        #expect(decide("  notepad++ ", requireApproval) == .proceed)
        #expect(decide("UTORRENT", noApproval) == .refused)
        #expect(decide("uTorrent", requireApproval) == .refused)
        // "Call approver" asks, even where the category needs no approval (nobody named: the MSP).
        #expect(decide("Zoom", requireApproval) == .approval(ApprovalPlan(approvers: [Self.ann], authenticateApprover: false, escalatesToMSP: false)))
        #expect(decide("Zoom", noApproval) == .approval(ApprovalPlan(approvers: [], authenticateApprover: false, escalatesToMSP: true)))
        // Unlisted software follows the category.
        #expect(decide("Slack", noApproval) == .proceed)
        #expect(decide("Slack", requireApproval) == .approval(ApprovalPlan(approvers: [Self.ann], authenticateApprover: false, escalatesToMSP: false)))
        #expect(throws: TandemError.self) { try UnlicensedSoftwareList([.init("Zoom", .install), .init(" zoom", .never)]).validate() }
    }

    @Test func settingsValidation() {
        func problems(_ settings: SecurityCategorySettings, _ category: SecurityCategory = .newUserAccount) -> [String] {
            settings.problems(for: category, field: category.rawValue).map(\.field)
        }
        #expect(problems(SecurityCategorySettings(approvers: [Self.ann, Self.bob, Self.group])) == ["newUserAccount.approvers"])
        #expect(problems(SecurityCategorySettings(approvers: [Self.ann, Self.ann])) == ["newUserAccount.approvers"])
        #expect(problems(SecurityCategorySettings(noApprovalNeeded: true, approvers: [Self.ann])) == ["newUserAccount.approvers"])
        #expect(
            problems(SecurityCategorySettings(templates: AccountTemplates(usernameFormat: "{first}.{last}")), .passwordReset) == ["passwordReset.templates"])
        #expect(
            problems(SecurityCategorySettings(templates: AccountTemplates(usernameFormat: "{first}.{middle}"))) == ["newUserAccount.templates.usernameFormat"])
        #expect(problems(SecurityCategorySettings(templates: AccountTemplates(usernameFormat: "admin"))) == ["newUserAccount.templates.usernameFormat"])
        #expect(problems(SecurityCategorySettings(templates: AccountTemplates(emailFormat: "{first}.{last}"))) == ["newUserAccount.templates.emailFormat"])
        #expect(
            problems(SecurityCategorySettings(templates: AccountTemplates(defaultSecurityGroups: ["Staff", " "]))) == [
                "newUserAccount.templates.defaultSecurityGroups"
            ])
        #expect(problems(SecurityCategorySettings(approvers: [Self.ann, Self.msp], templates: AccountTemplates(usernameFormat: "{f}{last}"))).isEmpty)
    }

    @Test func templatesPreviewTheAccountOfAPerson() {
        let templates = AccountTemplates(
            usernameFormat: "{first}.{last}", defaultSecurityGroups: ["Staff", "VPN users"], emailFormat: "{f}{last}@contoso.com",
            defaultDistributionGroups: ["All staff"])
        let preview = templates.preview(first: "Zoë", last: "O'Brien-Smith")
        #expect(preview.username == "zoe.obrien-smith")
        #expect(preview.email == "zobrien-smith@contoso.com")
        #expect(preview.securityGroups == ["Staff", "VPN users"])
        #expect(preview.distributionGroups == ["All staff"])
        #expect(AccountTemplates(usernameFormat: "{l}{first}").preview(first: "Ann Marie", last: "Lee").username == "lannmarie")
    }

    @Test func summaryNamesWhoApprovesEachCategory() {
        let summary = SiteSecuritySettings([
            .passwordReset: SecurityCategorySettings(noApprovalNeeded: true, authenticateCaller: true),
            .newUserAccount: SecurityCategorySettings(approvers: [Self.msp, Self.ann], authenticateApprover: true),
            .softwareInstallation: SecurityCategorySettings(approvers: [Self.msp]),
        ]).summary
        let byCategory = Dictionary(uniqueKeysWithValues: summary.map { ($0.category, $0) })
        #expect(summary.count == SecurityCategory.allCases.count)
        #expect(byCategory[.passwordReset]?.approval == SecurityCategorySummary.Approval.none)
        #expect(byCategory[.passwordReset]?.authenticateCaller == true)
        #expect(byCategory[.newUserAccount]?.approval == .client)
        #expect(byCategory[.newUserAccount]?.approvers == 2)
        #expect(byCategory[.softwareInstallation]?.approval == .msp)
        #expect(byCategory[.newMailAccount]?.approval == .msp)
        #expect(byCategory[.tier4]?.approval == .msp)
    }

    @Test func settingsEncodeWithCategoryKeys() throws {
        let settings = SiteSecuritySettings([.passwordReset: SecurityCategorySettings(noApprovalNeeded: true)])
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        #expect(json.contains("\"passwordReset\":{"))
        #expect(try JSONDecoder().decode(SiteSecuritySettings.self, from: Data(json.utf8)) == settings)
    }
}

/// The approval process: approvers asked in order, two attempts, then waiting; escalation; evidence.
@Suite struct ApprovalProcessTests {
    let ann = SecurityRequestTests.ann, bob = SecurityRequestTests.bob, msp = SecurityRequestTests.msp
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func twoApproversAreAskedInOrderThenTheTicketWaits() throws {
        var process = ApprovalProcess(ApprovalPlan(approvers: [ann, bob], authenticateApprover: true, escalatesToMSP: false))
        #expect(process.state == .contacting)
        #expect(process.nextApprover == ann)
        try process.attempted(at: t0)
        try process.unanswered()
        #expect(process.nextApprover == bob)
        try process.attempted(at: t0 + 60)
        try process.unanswered()
        #expect(process.state == .waitingApproval)
        #expect(process.nextApprover == nil)
        #expect(throws: TandemError.self) { try process.attempted(at: t0 + 120) }
        // Waiting, the approver can still answer, with their code.
        #expect(throws: TandemError.self) { try process.answer(approved: true, by: bob, authentication: .none, at: t0 + 600) }
        try process.answer(approved: true, by: bob, authentication: .oneTimeCode, at: t0 + 600)
        #expect(process.state == .approved)
        #expect(process.evidence == ApprovalProcess.Evidence(approver: bob, approved: true, authentication: .oneTimeCode, at: t0 + 600))
        #expect(throws: TandemError.self) { try process.answer(approved: false, by: ann, authentication: .oneTimeCode, at: t0 + 700) }
    }

    @Test func oneApproverIsTriedTwice() throws {
        var process = ApprovalProcess(ApprovalPlan(approvers: [ann], authenticateApprover: false, escalatesToMSP: false))
        try process.attempted(at: t0)
        try process.unanswered()
        #expect(process.nextApprover == ann)
        try process.attempted(at: t0 + 60)
        #expect(process.attempts.map(\.approver) == [ann, ann])
        // Without approver authentication the technician records the answer.
        try process.answer(approved: false, by: ann, authentication: .none, at: t0 + 90)
        #expect(process.state == .denied)
    }

    @Test func onlyMSPApproversEscalate() throws {
        var process = ApprovalProcess(ApprovalPlan(approvers: [msp], authenticateApprover: false, escalatesToMSP: true))
        #expect(process.state == .escalatedToMSP)
        #expect(process.nextApprover == nil)
        // A client contact cannot answer an escalated request; the MSP can.
        #expect(!process.mayAnswer(ann, by: .oneTimeCode))
        try process.answer(approved: true, by: msp, authentication: .signedIn, at: t0)
        #expect(process.state == .approved)
    }

    @Test func strangersAndTheMSPBeforeEscalationCannotAnswer() throws {
        var process = ApprovalProcess(ApprovalPlan(approvers: [ann, msp], authenticateApprover: false, escalatesToMSP: false))
        #expect(!process.mayAnswer(bob, by: .oneTimeCode))
        #expect(!process.mayAnswer(msp, by: .signedIn))
        try process.escalate()
        #expect(process.mayAnswer(msp, by: .signedIn))
        #expect(throws: TandemError.self) { try process.answer(approved: true, by: bob, authentication: .oneTimeCode, at: t0) }
    }
}

/// One-time codes: six digits, ten minutes, five tries, used once, bound to what they authenticate.
@Suite struct OneTimeCodeTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aCodeIsAcceptedOnceWithinTenMinutes() {
        let (code, stored) = OneTimeCode.issue(binding: "approval:1", now: t0)
        #expect(code.count == 6 && code.allSatisfy(\.isNumber))
        #expect(!stored.hash.contains(code) && stored.hash.count == 64)
        var record = stored
        #expect(record.check(code, binding: "approval:1", now: t0 + 599) == .accepted)
        #expect(record.check(code, binding: "approval:1", now: t0 + 600) == .used)
        var late = stored
        #expect(late.check(code, binding: "approval:1", now: t0 + 600) == .expired)
    }

    @Test func aCodeOfAnotherRequestIsWrong() {
        let (code, stored) = OneTimeCode.issue(binding: "approval:1", now: t0)
        var record = stored
        #expect(record.check(code, binding: "approval:2", now: t0) == .wrong(attemptsLeft: 4))
    }

    @Test func fiveWrongTriesLockTheCodeEvenForTheRightOne() {
        let (code, stored) = OneTimeCode.issue(binding: "caller:7", now: t0)
        var record = stored
        let wrong = code == "000000" ? "111111" : "000000"
        for left in (0..<5).reversed() { #expect(record.check(wrong, binding: "caller:7", now: t0) == .wrong(attemptsLeft: left)) }
        #expect(record.check(code, binding: "caller:7", now: t0) == .locked)
        #expect(record.attemptsLeft == 0 && record.usedAt == nil)
    }

    @Test func malformedCandidatesCountAsWrongTries() {
        let (code, stored) = OneTimeCode.issue(binding: "b", now: t0)
        var record = stored
        #expect(record.check("", binding: "b", now: t0) == .wrong(attemptsLeft: 4))
        #expect(record.check(code + "0", binding: "b", now: t0) == .wrong(attemptsLeft: 3))
        #expect(record.check(" \(code.prefix(3)) \(code.dropFirst(3)) ", binding: "b", now: t0) == .accepted)
    }

    @Test func codesAreNotPredictable() {
        let codes = Set((0..<200).map { _ in OneTimeCode.issue(binding: "b", now: t0).code })
        #expect(codes.count > 190)
        let salts = Set((0..<50).map { _ in OneTimeCode.issue(binding: "b", now: t0).stored.salt })
        #expect(salts.count == 50)
    }
}

@Suite struct CallerAuthenticationTests {
    @Test func theCodeGoesToTheMobilesGatewayAddressOrTheErrorSaysWhatIsMissing() throws {
        #expect(try CallerAuthentication.address(name: "Ann Lee", mobile: "(555) 010-2030", gateway: "@txt.att.net") == "5550102030@txt.att.net")
        for (mobile, gateway, missing) in [
            (nil, "txt.att.net", "has no mobile number;"), ("5550102030", nil, "has no SMS gateway;"), (" ", "", "has no mobile number and no SMS gateway"),
        ] {
            #expect {
                try CallerAuthentication.address(name: "Ann Lee", mobile: mobile, gateway: gateway)
            } throws: { error in
                guard case TandemError.validation(let problems) = error else { return false }
                return problems.first?.message.contains("Ann Lee cannot be authenticated by SMS") == true
                    && problems.first?.message.contains(missing) == true
            }
        }
    }
}
