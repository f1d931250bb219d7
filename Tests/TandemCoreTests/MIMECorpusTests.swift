import Foundation
import TandemCore
import Testing

/// Every message in `Tests/Fixtures/mail` against its entry in `expected.json`.
///
/// The manifest is an object keyed by file name; each entry holds the facts the parser must produce:
/// `from` (address or null), `subject`, `messageId` (with angle brackets, or null), `kind` (with ownDomain
/// "tandem.example"), `ticketReference` (number or null), `inReplyTo` (the first id or null), `attachments`
/// (count), `textContains`, and optionally `textExcludes` (a string or a list), `replyTextContains`,
/// `replyTextExcludes`, `attachmentNames`, `attachmentStartsWith`, `fromName`, `to`, `cc`, `references`, `date`
/// (UTC, ISO 8601, or null; as Python's `email.utils` reads the Date header).
/// A refused file has only `"error"`: a substring of the reason. Other keys (such as the server's `outcome`)
/// are ignored here.
@Suite struct MIMECorpusTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/mail")

    static func manifest() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: folder.appendingPathComponent("expected.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
    }

    static func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".eml") }.sorted()
    }

    @Test func everyFileHasAnEntryAndEveryEntryAFile() throws {
        let manifest = try Self.manifest()
        let files = try Self.files()
        #expect(files.count >= 32)
        #expect(Set(files) == Set(manifest.keys))
        #expect(manifest.values.filter { $0["error"] != nil }.count >= 2)
    }

    @Test(arguments: try files()) func fixture(_ name: String) throws {
        let expected = try #require(try Self.manifest()[name], "\(name) has no entry in expected.json")
        let raw = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent(name)))
        if let wanted = expected["error"] as? String {
            do {
                _ = try MailParser.parse(raw)
                Issue.record("\(name) must be refused")
            } catch {
                #expect(error.reason.contains(wanted), "\(error.reason)")
                #expect(!error.isOversized)
            }
            return
        }
        let mail = try MailParser.parse(raw)
        let classification = MailClassification.classify(mail, ownDomain: "tandem.example")
        #expect(mail.from?.email == expected["from"] as? String, "from")
        #expect(mail.subject == expected["subject"] as? String, "subject")
        #expect(mail.messageId == expected["messageId"] as? String, "messageId")
        #expect(classification.kind.rawValue == expected["kind"] as? String, "kind: \(classification.reason)")
        #expect(mail.subject.flatMap(TicketReference.find) == expected["ticketReference"] as? Int, "ticketReference")
        #expect(mail.inReplyTo.first == expected["inReplyTo"] as? String, "inReplyTo")
        #expect(mail.attachments.count == expected["attachments"] as? Int, "attachments: \(mail.attachments.map(\.filename))")
        if let text = expected["textContains"] as? String { #expect(mail.text.contains(text), "text: \(mail.text)") }
        for excluded in strings(expected["textExcludes"]) { #expect(!mail.text.contains(excluded), "text must not hold \(excluded): \(mail.text)") }
        if let text = expected["replyTextContains"] as? String { #expect(mail.replyText.contains(text), "replyText: \(mail.replyText)") }
        if let text = expected["replyTextExcludes"] as? String { #expect(!mail.replyText.contains(text), "replyText: \(mail.replyText)") }
        if let names = expected["attachmentNames"] as? [String] { #expect(mail.attachments.map(\.filename) == names) }
        if let prefix = expected["attachmentStartsWith"] as? String { #expect(mail.attachments.first?.bytes.starts(with: Array(prefix.utf8)) == true) }
        if let name = expected["fromName"] as? String { #expect(mail.from?.name == name) }
        if let to = expected["to"] as? [String] { #expect(mail.to.map(\.email) == to) }
        if let cc = expected["cc"] as? [String] { #expect(mail.cc.map(\.email) == cc) }
        if let references = expected["references"] as? [String] { #expect(mail.references == references) }
        if expected.keys.contains("date") {
            #expect(mail.date == (expected["date"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) }, "date")
        }
    }

    func strings(_ value: Any?) -> [String] {
        if let one = value as? String { return [one] }
        return value as? [String] ?? []
    }
}
