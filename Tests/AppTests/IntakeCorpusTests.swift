import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The mail corpus (`Tests/Fixtures/mail/`) delivered to a help desk that knows some of its senders:
/// every message becomes what `expected.json` says (`outcome`), and delivered again, nothing new.
@Suite struct IntakeCorpusTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/mail")

    @Test func everyMessageBecomesWhatTheManifestSays() async throws {
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.folder.appendingPathComponent("expected.json"))) as? [String: [String: Any]])
        #expect(manifest.count >= 30)
        try await withApp { t in
            // Tandem's own mail is from tandem.example (the corpus' loop message).
            t.app.settings.mail = SMTPSettings(host: "127.0.0.1", port: 25, security: .none, from: "help@tandem.example")
            let world = try await Self.world(t)
            for name in manifest.keys.sorted() {
                let expected = manifest[name]?["outcome"] as? String
                let raw = try String(decoding: Data(contentsOf: Self.folder.appendingPathComponent(name)), as: UTF8.self)
                let reply = try await IntakeMailTests.deliver(t, raw)
                if expected == "refused" {
                    #expect(reply.status == .badRequest, "\(name): \(reply)")
                    continue
                }
                #expect(reply.status == .ok && reply.json["outcome"].string == expected, "\(name): expected \(expected ?? "-"), got \(reply)")
                if expected == "note", let reference = manifest[name]?["ticketReference"] as? Int ?? (name.hasPrefix("13") ? 42 : nil) {
                    #expect(reply.json["ticketId"].string == world[reference], "\(name) threads to #\(reference)")
                }
            }
            // A second delivery of the whole corpus changes nothing.
            let counts = try await t.rowCounts()
            for name in manifest.keys.sorted() where manifest[name]?["outcome"] as? String != "refused" {
                let raw = try String(decoding: Data(contentsOf: Self.folder.appendingPathComponent(name)), as: UTF8.self)
                let again = try await IntakeMailTests.deliver(t, raw)
                #expect(again.json["outcome"] == "duplicate", "\(name): \(again)")
            }
            #expect(try await t.rowCounts() == counts)
        }
    }

    /// Contoso and Fabrikam match by their domains and know their people (Priya writes from gmail.com);
    /// Acme chose "no client email domain" and knows only Sophie. Tickets #42, #107 and #215 exist, with
    /// the notifications the corpus' replies answer.
    static func world(_ t: TestApp) async throws -> [Int: String] {
        var organizations: [String: String] = [:]
        for (name, domain) in [("Contoso", "contoso.example"), ("Fabrikam", "fabrikam.example"), ("Acme", nil)] {
            let organization = try await t.organization(name)
            let site = try await t.site(organization, "\(name) HQ")
            expectStatus(try await t.patch("/api/v1/sites/\(site)", ["clientEmailDomain": domain.map { .string($0) } ?? .null]), .ok)
            organizations[name] = organization
        }
        let people = [
            ("Contoso", "Dana", "dana.whitfield@contoso.example"), ("Contoso", "Claire", "claire.dubois@contoso.example"),
            ("Contoso", "Priya", "priya.raman.home@gmail.com"), ("Fabrikam", "Marcus", "marcus.lee@fabrikam.example"),
            ("Fabrikam", "Juergen", "juergen.mueller@fabrikam.example"), ("Acme", "Sophie", "sophie.martin@acme.example"),
        ]
        for (organization, name, email) in people { _ = try await t.contact(organizations[organization]!, name, email: email) }
        var tickets: [Int: String] = [:]
        let owners: [Int: (String, String)] = [42: ("Contoso", "aa"), 107: ("Fabrikam", "ab"), 215: ("Acme", "ac")]
        for number in 1...215 {
            let owner = owners[number]
            let ticket = try await t.ticket(organizations[owner?.0 ?? "Contoso"]!, "Ticket \(number)")
            #expect(ticket["number"].int == number)
            guard let (_, suffix) = owner else { continue }
            tickets[number] = ticket.id
            let sent = OutboxMessage(
                channel: .email, recipient: "someone@client.example", subject: "Ticket \(number)", body: "x",
                messageId: "<0193a000-0000-7000-8000-0000000000\(suffix)@tandem.example>", at: t.db.now)
            sent.ticketId = UUID(uuidString: ticket.id)
            try await sent.create(on: t.db)
        }
        return tickets
    }
}
