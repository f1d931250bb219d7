import Foundation
import TandemCore
import Testing

/// Who keeps webhooks, where mail links send people, and how `TANDEM_SMTP_URL` is read.
@Suite struct DeliveryPolicyTests {
    func principal(_ kind: PrincipalKind, _ permissions: Permissions) -> Principal {
        Principal(id: UUID(), kind: kind, displayName: "P", securityLevelId: UUID(), permissions: permissions)
    }

    @Test func webhooksAreForRuleManagersAndCoManagingUsersOwnOnes() throws {
        let admin = principal(.resource, SystemSecurityLevel.administrator.permissions)
        let technician = principal(.resource, SystemSecurityLevel.technician.permissions)
        let coManaging = principal(.coManagingUser, SystemSecurityLevel.coManagedHelpDesk.permissions)
        let contact = principal(.contact, .nothing)
        #expect(AccessPolicy.webhookScope(for: admin) == .all)
        #expect(AccessPolicy.webhookScope(for: technician) == .none)
        #expect(AccessPolicy.webhookScope(for: coManaging) == .equals(.owner, coManaging.id))
        #expect(AccessPolicy.webhookScope(for: contact) == .none)
        #expect(throws: Never.self) { try AccessPolicy.authorizeWebhooks(coManaging) }
        #expect(throws: TandemError.forbidden("webhooks need the manageRules permission")) { try AccessPolicy.authorizeWebhooks(technician) }
        #expect(throws: TandemError.forbidden("contacts cannot keep webhooks")) { try AccessPolicy.authorizeWebhooks(contact) }
    }

    @Test func onlyContactsReadTicketsInThePortal() {
        #expect(AccessPolicy.readsTicketsInPortal(principal(.contact, .nothing)))
        #expect(!AccessPolicy.readsTicketsInPortal(principal(.resource, SystemSecurityLevel.technician.permissions)))
        #expect(!AccessPolicy.readsTicketsInPortal(principal(.coManagingUser, SystemSecurityLevel.coManagedBasic.permissions)))
    }

    @Test func smtpURLs() throws {
        let submission = try SMTPSettings.parse(url: "smtp://relay%40msp:p%40ss@smtp.example.com:587?starttls=1", from: "helpdesk@msp.example")
        #expect(submission.host == "smtp.example.com" && submission.port == 587 && submission.security == .startTLS)
        #expect(submission.username == "relay@msp" && submission.password == "p@ss")
        #expect(!submission.description.contains("p@ss") && !submission.description.contains("p%40ss"), "the password never shows")
        let implicit = try SMTPSettings.parse(url: "smtps://smtp.example.com", from: "helpdesk@msp.example")
        #expect(implicit.security == .implicitTLS && implicit.port == 465 && implicit.verifyCertificate)
        #expect(try SMTPSettings.parse(url: "smtp://localhost", from: "a@b.example").port == 25)
        #expect(try SMTPSettings.parse(url: "smtp://h.example?verify=0", from: "a@b.example").verifyCertificate == false)
        #expect(throws: TandemError.self) { try SMTPSettings.parse(url: "http://smtp.example.com", from: "a@b.example") }
        #expect(throws: TandemError.self) { try SMTPSettings.parse(url: "smtp://", from: "a@b.example") }
        #expect(throws: TandemError.self) { try SMTPSettings.parse(url: "smtp://h.example", from: "not an address") }
        #expect(throws: TandemError.self) { try SMTPSettings.parse(url: "smtp://h.example", from: "a@b.example\r\nBcc: x@evil.example") }
    }

    @Test func onlyTheAcknowledgementReachesWhoeverCausedIt() {
        #expect(NotificationKind.allCases.filter(\.toldToWhoeverCausedIt) == [.ticketAcknowledgement])
    }
}
