import Foundation
import Testing
import VaporTesting

@testable import App

/// The contact portal in the browser: a contact opens a ticket and replies on its pages, reads the
/// MSP's public replies, and finds no internal or co-managed item, nor anyone else's ticket, by any
/// page or URL.
@Suite struct PortalPageTests {
    @Test func contactOpensATicketRepliesAndSeesOnlyWhatIsShared() async throws {
        try await withApp { t in
            let northwind = try await t.organization("Northwind")
            let contoso = try await t.organization("Contoso")
            let alice = try await t.contact(northwind, "Alice", email: "alice@northwind.example", password: "portal-pass-2026")
            let bob = try await t.contact(northwind, "Bob", email: "bob@northwind.example")
            let carol = try await t.contact(contoso, "Carol")
            let bobs = try await t.ticket(northwind, "Bob's phone is dead", extra: ["contactId": .string(bob)]).id
            let contosos = try await t.ticket(contoso, "Carol's printer jams", extra: ["contactId": .string(carol)]).id
            let portal = try await t.pageSession("alice@northwind.example", "portal-pass-2026")

            // Opening a ticket on the new ticket page: the contact's own organization, no staff fields.
            let form = try await t.page("/tickets/new", session: portal)
            expectStatus(form, .ok)
            #expect(!form.text.contains("name=\"queueId\"") && !form.text.contains("name=\"contactId\""))
            let opened = try await t.submitForm(
                "/tickets/new", [("organizationId", northwind), ("title", "Screen flickers"), ("description", "Since this morning")], session: portal)
            #expect(opened.status == .seeOther, "\(opened)")
            let location = opened.headers.first(name: .location) ?? ""
            let mine = try #require(ids(in: location).first)
            let created = try await t.get("/api/v1/tickets/\(mine)").json
            #expect(created["contactId"] == .string(alice))
            #expect(created["source"] == "portal")

            // The links mail sends contacts (`/portal/tickets/{id}`) lead to the ticket's page, after the login.
            let link = try await t.page("/portal/tickets/\(mine)", session: portal)
            #expect(link.status == .seeOther && link.headers.first(name: .location)?.lowercased() == "/tickets/\(mine)".lowercased(), "\(link)")
            let anonymous = try await t.get("/portal/tickets/\(mine)", as: "")
            #expect(anonymous.headers.first(name: .location)?.hasPrefix("/login?next=") == true, "\(anonymous)")
            #expect(try await t.page("/portal/tickets", session: portal).headers.first(name: .location) == "/tickets")

            // The MSP answers: one reply to the contact, one internal note, one for the client's IT.
            let publicReply = try await t.note(mine, "We are sending a new cable", publishTo: "all").id
            let internalNote = try await t.note(mine, "SECRET-INTERNAL the user broke it", publishTo: "internal").id
            let coManagedNote = try await t.note(mine, "SECRET-COMANAGED ask their IT", publishTo: "internalAndCoManaged").id
            let internalFile = try await t.create(
                "/api/v1/tickets/\(mine)/attachments",
                [
                    "filename": "secret-internal.txt", "contentType": "text/plain", "publishTo": "internal",
                    "content": .string(Data("SECRET-FILE".utf8).base64EncodedString()),
                ]
            ).id
            let sharedFile = try await t.create(
                "/api/v1/tickets/\(mine)/attachments",
                [
                    "filename": "instructions.txt", "contentType": "text/plain", "publishTo": "all",
                    "content": .string(Data("Plug it in".utf8).base64EncodedString()),
                ]
            ).id

            // The ticket page shows the MSP's public reply and shared file, and nothing else.
            let page = try await t.page("/tickets/\(mine)", session: portal)
            expectStatus(page, .ok)
            #expect(page.text.contains("We are sending a new cable"))
            #expect(page.text.contains("instructions.txt"))
            for secret in ["SECRET-INTERNAL", "SECRET-COMANAGED", "secret-internal.txt", internalNote, coManagedNote, internalFile] {
                #expect(!page.text.lowercased().contains(secret.lowercased()), "the portal's ticket page shows \(secret)")
            }

            // Replying on the page: a note published to all, by the contact.
            let reply = try await t.submitForm("/tickets/\(mine)/notes", [("body", "Thanks, the new cable works"), ("publishTo", "all")], session: portal)
            #expect(reply.status == .seeOther, "\(reply)")
            let notes = try await t.get("/api/v1/tickets/\(mine)/notes").json["items"].array
            let added = try #require(notes.first { $0["body"] == "Thanks, the new cable works" })
            #expect(added["publishTo"] == "all" && added["authorKind"] == "contact" && added["authorId"] == .string(alice))
            #expect(try await t.page("/tickets/\(mine)", session: portal).text.contains("Thanks, the new cable works"))
            // Asking for an internal reply is refused, and writes nothing.
            let before = try await t.rowCounts()
            let sneaky = try await t.submitForm("/tickets/\(mine)/notes", [("body", "sneaky"), ("publishTo", "internal")], session: portal)
            #expect(sneaky.status != .seeOther)
            #expect(try await t.rowCounts()["notes"] == before["notes"])

            // The item URLs (the API under the page session's cookie): hidden items are not found.
            for hidden in ["notes/\(internalNote)", "notes/\(coManagedNote)", "attachments/\(internalFile)", "attachments/\(internalFile)/content"] {
                expectProblem(try await t.page("/api/v1/tickets/\(mine)/\(hidden)", session: portal), .notFound)
            }
            expectStatus(try await t.page("/api/v1/tickets/\(mine)/notes/\(publicReply)", session: portal), .ok)
            let download = try await t.page("/api/v1/tickets/\(mine)/attachments/\(sharedFile)/content", session: portal)
            expectStatus(download, .ok)
            #expect(download.text == "Plug it in")
            let listed = try await t.page("/api/v1/tickets/\(mine)/notes", session: portal).json["items"].array.compactMap { $0["id"].string }
            #expect(!listed.contains(internalNote) && !listed.contains(coManagedNote) && listed.contains(publicReply))
            let history = try await t.page("/api/v1/tickets/\(mine)/history", session: portal).text
            #expect(!history.contains("SECRET"))

            // Search, on the list page and the API: the hidden notes' words find nothing.
            for word in ["SECRET-INTERNAL", "broke", "phone", "printer"] {
                let list = try await t.page("/tickets?q=\(word)", session: portal)
                #expect(ids(in: list.text).isEmpty, "searching \(word) lists a ticket")
                #expect(try await t.page("/api/v1/search?q=\(word)", session: portal).json["tickets"].array.isEmpty)
            }

            // The list and its counts: only the contact's own ticket, whoever else has tickets.
            let list = try await t.page("/tickets", session: portal)
            #expect(ids(in: list.text) == [mine.lowercased()])
            #expect(list.text.contains("1 ticket"))
            #expect(statusCounts(list.text)["All"] == 1)
            #expect(!list.text.contains("Bob&#39;s phone") && !list.text.contains("Bob's phone"))

            // Another contact's ticket and another organization's: 404, page and URLs alike.
            for other in [bobs, contosos] {
                let page = try await t.page("/tickets/\(other)", session: portal)
                expectStatus(page, .notFound)
                #expect(!page.text.contains("phone is dead") && !page.text.contains("printer jams"))
                expectProblem(try await t.page("/api/v1/tickets/\(other)", session: portal), .notFound)
                expectProblem(try await t.page("/api/v1/tickets/\(other)/notes", session: portal), .notFound)
                let reply = try await t.submitForm("/tickets/\(other)/notes", [("body", "hello"), ("publishTo", "all")], session: portal)
                expectStatus(reply, .notFound)
            }
        }
    }
}

/// Ticket ids linked from a page (`/tickets/<id>`), lower-cased, in order.
func ids(in html: String) -> [String] {
    html.matches(of: /\/tickets\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/).map { String($0.1).lowercased() }
        .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
}

/// The list page's counts per status, by label.
func statusCounts(_ html: String) -> [String: Int] {
    Dictionary(
        html.matches(of: /data-status-count="([^"]+)">(\d+)</).map { (String($0.1), Int($0.2) ?? -1) }, uniquingKeysWith: { first, _ in first })
}
