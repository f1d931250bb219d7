import Foundation
import TandemCore
import Testing

/// Where a security request stands (`SecurityRequestProgress`): the caller first, then the
/// decision's outcome; the ticket status each step asks for; who may work and decide requests.
@Suite struct SecurityRequestProgressTests {
    static let ann = SecurityApprover(.contact, UUID())
    static let bob = SecurityApprover(.contact, UUID())
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func approval(_ approvers: [SecurityApprover], caller: Bool = false, escalates: Bool = false) -> SecurityDecision {
        SecurityDecision(
            outcome: .approval(ApprovalPlan(approvers: approvers, authenticateApprover: true, escalatesToMSP: escalates)), authenticateCaller: caller,
            reason: "test")
    }

    @Test func theCallerIsAuthenticatedBeforeAnyApproverIsAsked() throws {
        var progress = SecurityRequestProgress(Self.approval([Self.ann], caller: true))
        #expect(progress.status == .callerAuthentication)
        #expect(progress.nextApprover == nil)
        #expect(throws: TandemError.self) { try progress.attempted(at: Self.now) }
        #expect(throws: TandemError.self) { try progress.answer(approved: true, by: Self.ann, authentication: .oneTimeCode, at: Self.now) }
        try progress.callerAuthenticated(at: Self.now)
        #expect(progress.status == .contacting && progress.nextApprover == Self.ann)
        #expect(throws: TandemError.self) { try progress.callerAuthenticated(at: Self.now) }
    }

    @Test func outcomesWithoutApprovers() throws {
        #expect(SecurityRequestProgress(SecurityDecision(outcome: .proceed, authenticateCaller: false, reason: "")).status == .proceed)
        var proceed = SecurityRequestProgress(SecurityDecision(outcome: .proceed, authenticateCaller: true, reason: ""))
        #expect(proceed.status == .callerAuthentication)
        try proceed.callerAuthenticated(at: Self.now)
        #expect(proceed.status == .proceed && proceed.status.isFinal)
        // Refused software asks nobody for a code.
        #expect(SecurityRequestProgress(SecurityDecision(outcome: .refused, authenticateCaller: true, reason: "")).status == .refused)
        #expect(SecurityRequestProgress(Self.approval([], escalates: true)).status == .escalatedToMSP)
    }

    @Test func theTicketWaitsIsEscalatedAndGoesBackToWork() throws {
        var progress = SecurityRequestProgress(Self.approval([Self.ann, Self.bob]))
        #expect(progress.ticketStatus(from: .inProgress) == nil)
        try progress.attempted(at: Self.now)
        try progress.unanswered()
        try progress.attempted(at: Self.now)
        try progress.unanswered()
        #expect(progress.status == .waitingApproval)
        #expect(progress.ticketStatus(from: .inProgress) == .waitingApproval)
        #expect(progress.ticketStatus(from: .waitingApproval) == nil, "already there")
        #expect(progress.ticketStatus(from: .resolved) == nil, "a resolved ticket is not reopened")
        #expect(progress.ticketStatus(from: .waitingCustomer) == nil, "not a move the state machine allows")
        try progress.answer(approved: false, by: Self.bob, authentication: .oneTimeCode, at: Self.now)
        #expect(progress.status == .denied)
        #expect(progress.ticketStatus(from: .waitingApproval) == .inProgress)
        #expect(progress.ticketStatus(from: .new) == nil, "an answer moves only a waiting or escalated ticket")

        let escalated = SecurityRequestProgress(Self.approval([], escalates: true))
        #expect(escalated.ticketStatus(from: .new) == .escalated)
        #expect(escalated.ticketStatus(from: .closed) == nil)
    }

    @Test func aSiteIsConfiguredWhenEveryCategoryItDecidesIsDecided() {
        #expect(!SiteSecuritySettings().isConfigured)
        var categories: [SecurityCategory: SecurityCategorySettings] = [:]
        for category in SecurityCategory.allCases where category != .tier4 {
            categories[category] = category == .passwordReset ? .init(approvers: [Self.ann]) : .init(noApprovalNeeded: true)
        }
        #expect(SiteSecuritySettings(categories).isConfigured, "Tier 4 is the MSP's whatever the site says")
        categories[.newMailAccount] = .init(authenticateCaller: true)
        #expect(!SiteSecuritySettings(categories).isConfigured, "approval needed with nobody named is not decided")
    }

    static func principal(_ level: SystemSecurityLevel, kind: PrincipalKind = .resource, id: UUID = UUID()) -> Principal {
        Principal(id: id, kind: kind, displayName: "P", securityLevelId: UUID(), permissions: level.permissions)
    }

    @Test func whoWorksAndWhoDecidesRequests() throws {
        // Reading: every level with approvals; contacts never (404, not 403).
        for level in SystemSecurityLevel.allCases {
            let principal = Self.principal(level, kind: level.coManaged ? .coManagingUser : .resource)
            let reads = level.permissions.allows(.view, on: .approvals)
            #expect(((try? AccessPolicy.authorizeSecurityRequests(principal, .view)) != nil) == reads, "\(level)")
            let opens = level.permissions.allows(.add, on: .approvals)
            #expect(((try? AccessPolicy.authorizeSecurityRequests(principal, .create)) != nil) == opens, "\(level)")
        }
        let contact = Principal(id: UUID(), kind: .contact, displayName: "C", securityLevelId: nil, permissions: .nothing)
        #expect(throws: TandemError.notFound("security request")) { try AccessPolicy.authorizeSecurityRequests(contact, .view) }
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeSecurityRequests(Self.principal(.dispatcher), .create) }

        // Deciding for the MSP: listed or full approvals, an MSP resource, never the requester.
        let technician = Self.principal(.technician), administrator = Self.principal(.administrator)
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeMSPApproval(technician, listed: false, requestedBy: nil) }
        try AccessPolicy.authorizeMSPApproval(technician, listed: true, requestedBy: nil)
        try AccessPolicy.authorizeMSPApproval(administrator, listed: false, requestedBy: nil)
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeMSPApproval(administrator, listed: true, requestedBy: administrator.id) }
        #expect([Self.ann, SecurityApprover(.resource, technician.id)].listsMSPApprover(technician.id))
        #expect(![SecurityApprover(.contact, technician.id)].listsMSPApprover(technician.id), "a contact with the same id is no MSP approver")
        let coManaging = Self.principal(.coManagedHelpDesk, kind: .coManagingUser)
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeMSPApproval(coManaging, listed: true, requestedBy: nil) }
    }
}
