import Foundation
import Testing

@testable import App

/// Full-text search (SPEC §4, issue 20) through `GET /api/v1/search` and the ticket list's `q=`: ranked,
/// stemmed, prefix on the last word, highlighted snippets, and under the policy: a note's words find
/// its ticket only for those who may read that note.
@Suite struct SearchTests {
    @Test func rankedStemmedAndHighlighted() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let inTitle = try await t.ticket(contoso, "Printers on the third floor", extra: ["description": "Paper jams."]).id
            let inDescription = try await t.ticket(contoso, "Third floor", extra: ["description": "The printer <b>jams</b> on every job."]).id
            let other = try await t.ticket(contoso, "VPN drops").id
            let result = try await t.get("/api/v1/search?q=printer").json
            #expect(result["tickets"].ids == [inTitle, inDescription], "stemmed, the title weighing more")
            let matches = result["matches"].array
            #expect(matches.map(\.["id"]) == [.string(inTitle), .string(inDescription)])
            let snippet = try #require(matches.last?["snippet"].string)
            #expect(snippet.contains("<mark>printer</mark>"), "\(snippet)")
            // The rest of the text is escaped (SQLite) or its tags left out (PostgreSQL's headline): never markup.
            #expect(snippet.contains("jams") && !snippet.contains("<b>"), "\(snippet)")
            // The last word is a prefix; every word must match.
            #expect(try await t.get("/api/v1/search?q=prin").json["tickets"].ids == [inTitle, inDescription])
            #expect(try await t.get("/api/v1/search?q=third%20printer").json["tickets"].ids.count == 2)
            #expect(try await t.get("/api/v1/search?q=jams%20vpn").json["tickets"].ids == [])
            #expect(try await t.get("/api/v1/search?q=vpn").json["tickets"].ids == [other])
            // Edits and deletes are indexed at once (triggers on the tables).
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(other)", ["title": "Scanner drops"])
            #expect(try await t.get("/api/v1/search?q=vpn").json["tickets"].ids == [])
            #expect(try await t.get("/api/v1/search?q=scanner").json["tickets"].ids == [other])
            try await t.must(.noContent, .DELETE, "/api/v1/tickets/\(other)")
            #expect(try await t.get("/api/v1/search?q=scanner").json["tickets"].ids == [])
            // The list's q= is the same search.
            #expect(Set(try await t.get("/api/v1/tickets?q=printers").json["items"].ids) == [inTitle, inDescription])
            #expect(try await t.get("/api/v1/tickets/count?q=printers").json["count"] == 2)
        }
    }

    @Test func aNotesWordsFindItsTicketOnlyForThoseWhoMayReadIt() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let queue = try await t.queue("Service Desk")
            let nina = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue])
            let alice = try await t.contact(northwind, "Alice")
            let ticket = try await t.ticket(
                northwind, "Laptop battery", extra: ["contactId": .string(alice), "queueId": .string(queue), "coManagedVisible": true]
            ).id
            try await t.note(ticket, "Internal: zanzibar contract pricing", publishTo: "internal")
            let coManaged = try await t.note(ticket, "For the client's IT: quokka firmware", publishTo: "internalAndCoManaged").id
            try await t.note(ticket, "Hello Alice, the wombat part is ordered", publishTo: "all")
            let ninaToken = try await t.loginCoManaging(nina.id, "nina")
            let aliceToken = try await t.portalLogin(alice, email: "alice@northwind.example")

            func found(_ word: String, as token: String? = nil) async throws -> Bool {
                let search = try await t.get("/api/v1/search?q=\(word)", as: token).json["tickets"].ids
                let list = try await t.get("/api/v1/tickets?q=\(word)", as: token).json["items"].ids
                #expect(search == list, "the search and the list agree for \(word)")
                return search == [ticket]
            }
            for (word, admin, coManaging, contact) in [
                ("zanzibar", true, false, false), ("quokka", true, true, false), ("wombat", true, true, true), ("battery", true, true, true),
            ] {
                #expect(try await found(word) == admin, "admin, \(word)")
                #expect(try await found(word, as: ninaToken) == coManaging, "nina, \(word)")
                #expect(try await found(word, as: aliceToken) == contact, "alice, \(word)")
            }
            // A snippet never shows nina the internal note, even when her word is also in it.
            try await t.note(ticket, "Internal: quokka rollout costs", publishTo: "internal")
            let snippets = try await t.get("/api/v1/search?q=quokka", as: ninaToken).json["matches"].array.compactMap(\.["snippet"].string)
            #expect(!snippets.isEmpty && snippets.allSatisfy { !$0.contains("rollout") }, "\(snippets)")
            // Publishing a note as internal takes its words away from nina at once.
            try await t.must(.ok, .PATCH, "/api/v1/tickets/\(ticket)/notes/\(coManaged)", ["publishTo": "internal"])
            #expect(try await t.get("/api/v1/search?q=firmware", as: ninaToken).json["tickets"].ids == [])
            #expect(try await t.get("/api/v1/search?q=firmware").json["tickets"].ids == [ticket])
        }
    }

    @Test func contactsAndKinds() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso Pharmaceuticals")
            let ann = try await t.contact(contoso, "Annabel", email: "annabel.lee@contoso.example")
            try await t.ticket(contoso, "Annabel's printer")
            #expect(try await t.get("/api/v1/search?q=annabel").json["contacts"].ids == [ann])
            #expect(try await t.get("/api/v1/search?q=contoso.example").json["contacts"].ids == [ann], "email words")
            let onlyContacts = try await t.get("/api/v1/search?q=annabel&kinds=contacts").json
            #expect(onlyContacts["tickets"].ids == [] && onlyContacts["contacts"].ids == [ann])
            #expect(try await t.get("/api/v1/search?q=pharma&kinds=organizations").json["organizations"].ids.count == 1)
            expectProblem(try await t.get("/api/v1/search?q=annabel&kinds=tickets,people"), .unprocessableEntity, field: "kinds")
        }
    }

    @Test func textThatIsNoQueryLanguageIsSafe() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let ticket = try await t.ticket(contoso, "Printer near the door").id
            let bell = try await t.ticket(contoso, "Door bell").id
            for text in ["\"", "NEAR(printer door)", "printer*", "printer OR door", "title:printer", "'; DROP TABLE tickets; --", "&|!:*()", "printer\"door"] {
                let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let reply = try await t.get("/api/v1/search?q=\(encoded)")
                #expect(reply.status == .ok || reply.status == .unprocessableEntity, "\(text): \(reply)")
                let list = try await t.get("/api/v1/tickets?q=\(encoded)")
                expectStatus(list, .ok)
            }
            expectProblem(try await t.get("/api/v1/search?q=%26%7C%21"), .unprocessableEntity, field: "q", contains: "no words")
            #expect(!(try await t.get("/api/v1/search?q=printer%20OR%20door").json["tickets"].ids.contains(bell)), "OR is no operator here")
            #expect(try await t.get("/api/v1/search?q=NEAR(printer%20door)").json["tickets"].ids == [ticket])
            #expect(try await t.get("/api/v1/tickets/\(ticket)").json["title"] == "Printer near the door")
        }
    }
}
