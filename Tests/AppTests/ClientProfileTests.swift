import Foundation
import Spreadsheets
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Client profiles (SPEC §7): one at a time, export, import with a per-row report, and who may do it.
@Suite("Client profiles", .serialized)
struct ClientProfileTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/profiles")

    // MARK: One at a time

    @Test func createGetUpdateDeleteOneProfile() async throws {
        try await withApp { app in
            let organization = try await app.organization("Acme")
            let site = try await app.site(organization, "HQ")
            let created = try await app.profile(
                site, "Alice", "Able", email: "Alice@Client.Example",
                extra: [
                    "mobileProvider": "AT&T", "smsGateway": "txt.att.com", "thinClient": true, "notes": "Uses a thin client",
                    "phones": [["number": "5550100", "countryCode": "us", "kind": "office"], ["number": "5550199", "countryCode": "US", "kind": "mobile"]],
                ])
            #expect(created["email"].string == "alice@client.example")
            #expect(created["smsGateway"].string == "@txt.att.com")
            #expect(created["phones"][0]["countryCode"].string == "US")
            #expect(created["organizationId"].string == organization)
            let id = created.id

            let fetched = try await app.get("/api/v1/client-profiles/\(id)")
            expectStatus(fetched, .ok)
            #expect(fetched.json["thinClient"].bool == true)

            let listed = try await app.get("/api/v1/client-profiles?siteId=\(site)")
            #expect(listed.json.ids == [id])

            let patched = try await app.patch("/api/v1/client-profiles/\(id)", ["lastName": "Baker", "notes": .null])
            expectStatus(patched, .ok)
            #expect(patched.json["lastName"].string == "Baker")
            #expect(patched.json["notes"].isNull)
            #expect(patched.json["mobileProvider"].string == "AT&T")

            expectStatus(try await app.delete("/api/v1/client-profiles/\(id)"), .noContent)
            expectStatus(try await app.get("/api/v1/client-profiles/\(id)"), .notFound)
            let actions = try await app.auditEvents(entityId: id).compactMap { $0["action"].string }
            #expect(actions == ["created", "updated", "deleted"])
        }
    }

    @Test func oneProfileValidationNamesTheField() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            let before = try await app.rowCounts()
            let base: JSON = ["siteId": .string(site), "firstName": "A", "lastName": "B"]
            expectProblem(try await app.post("/api/v1/client-profiles", base), .unprocessableEntity, field: "phones", contains: "at least one phone number")
            expectProblem(
                try await app.post("/api/v1/client-profiles", base.merging(["phones": [["number": "555-0100", "countryCode": "US"]]])),
                .unprocessableEntity, field: "phones[0].number", contains: "contains '-'")
            expectProblem(
                try await app.post("/api/v1/client-profiles", base.merging(["phones": [["number": "5550100", "countryCode": "XX"]]])),
                .unprocessableEntity, field: "phones[0].countryCode")
            expectProblem(
                try await app.post("/api/v1/client-profiles", base.merging(["firstName": "N/A", "phones": [["number": "5550100", "countryCode": "US"]]])),
                .unprocessableEntity, field: "firstName", contains: "'N/A' is not accepted")
            expectProblem(
                try await app.post(
                    "/api/v1/client-profiles",
                    base.merging([
                        "phones": [
                            ["number": "5550100", "countryCode": "US", "kind": "office"], ["number": "5550101", "countryCode": "US", "kind": "office"],
                        ]
                    ])), .unprocessableEntity, field: "phones[1].number", contains: "only one office number")
            expectProblem(
                try await app.post("/api/v1/client-profiles", base.merging(["smsGateway": "not a domain", "phones": [["number": "1", "countryCode": "US"]]])),
                .unprocessableEntity, field: "smsGateway")
            expectProblem(
                try await app.post(
                    "/api/v1/client-profiles",
                    [
                        "siteId": .string(UUID().uuidString), "firstName": "A", "lastName": "B",
                        "phones": [["number": "1", "countryCode": "US"]],
                    ]),
                .unprocessableEntity, field: "siteId")
            #expect(try await app.rowCounts() == before)
        }
    }

    /// The import writes audit JSON by hand; it must say what JSONEncoder would.
    @Test func handWrittenAuditJSONMatchesTheEncoder() {
        let profiles = [
            ClientProfile(firstName: "Zoë \"Q\" \\ /", lastName: "Line\nbreak\u{1}", email: nil, phones: [], notes: nil),
            ClientProfile(
                firstName: "A", lastName: "B", email: "a@b.example",
                phones: [
                    ProfilePhone(number: "1", countryCode: "US", kind: .office),
                    ProfilePhone(number: "2", countryCode: "GB", kind: .mobile),
                ], mobileProvider: "AT&T", smsGateway: "@txt.att.com",
                thinClient: true, notes: "tab\there 😀"),
        ]
        for profile in profiles {
            let (id, organizationId, siteId) = (UUID(), UUID(), UUID())
            let dto = ClientProfileDTO(id: id, organizationId: organizationId, siteId: siteId, profile)
            let audit = profile.auditJSON(id: id, organizationId: organizationId, siteId: siteId)
            #expect(JSON.parse(Data(audit.utf8)) == JSON.parse(Data(JSONColumn.encode(dto).utf8)), "\(audit)")
            #expect(JSON.parse(Data(audit.utf8)) != nil)
            #expect(JSON.parse(Data(ClientProfileDTO.phonesJSON(dto.phones).utf8)) == JSON.parse(Data(JSONColumn.encode(dto.phones).utf8)))
        }
    }

    // MARK: Import rules, from the fixture folder

    /// Every `*.csv` in `Fixtures/profiles` imports into a fresh site holding alice, bob and cleo, and its
    /// report must match `*.expected.json` (counts and each failure's row, column, cell and reason), or be refused whole.
    @Test func fixturesGiveTheirExpectedReports() async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { $0.hasSuffix(".csv") }.sorted()
        #expect(files.count >= 15)
        try await withApp { app in
            let organization = try await app.organization("Acme")
            let otherSite = try await app.site(try await app.organization("Other Corp"), "Elsewhere")
            let other = try await app.profile(otherSite, "Olga", "Other", email: "olga@other.example").id
            for (index, file) in files.enumerated() {
                let site = try await app.site(organization, "Site \(index)")
                let ids = [
                    "alice": try await app.profile(site, "Alice", "Able", email: "alice@client.example").id,
                    "bob": try await app.profile(site, "Bob", "Baker", email: "bob@client.example").id,
                    "cleo": try await app.profile(site, "Cleo", "Clark", email: "cleo@client.example").id,
                    "other": other,
                ]
                var data = try Data(contentsOf: Self.fixtures.appendingPathComponent(file))
                if var text = String(data: data, encoding: .utf8), !file.hasPrefix("utf16") {
                    for (name, id) in ids { text = text.replacingOccurrences(of: "{{\(name)}}", with: id) }
                    data = Data(text.utf8)
                }
                let expected = JSON.parse(
                    try Data(contentsOf: Self.fixtures.appendingPathComponent(file.replacingOccurrences(of: ".csv", with: ".expected.json"))))!
                let before = try await app.rowCounts()
                let reply = try await app.importProfiles(site, data)
                if let refusal = expected["refused"].string {
                    expectProblem(reply, .unprocessableEntity, field: "file", contains: refusal)
                    #expect(try await app.rowCounts() == before, "\(file) was refused but wrote")
                    continue
                }
                #expect(reply.status == .ok, "\(file): \(reply)")
                let report = reply.json
                let counts = expected["counts"]
                #expect(ReportCounts(report) == ReportCounts(counts), "\(file): \(report)")
                let failures = report["failures"].array
                #expect(failures.count == expected["failures"].array.count, "\(file): \(failures)")
                for (got, want) in zip(failures, expected["failures"].array) {
                    #expect(got["row"] == want["row"] && got["column"] == want["column"] && got["cell"] == want["cell"], "\(file): \(got) vs \(want)")
                    #expect(got["reason"].string?.contains(want["reason"].string ?? "") == true, "\(file): \(got) vs \(want)")
                }
                for warning in expected["warnings"].array {
                    #expect(report["warnings"].array.contains { $0.string?.contains(warning.string!) == true }, "\(file): \(report["warnings"])")
                }
                // Another site's profile is never touched.
                #expect(try await app.get("/api/v1/client-profiles/\(other)").json["lastName"].string == "Other")
            }
        }
    }

    @Test func importAppliesTheRowsAsTheTruth() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            let alice = try await app.profile(site, "Alice", "Able", email: "alice@client.example", extra: ["notes": "Keep?", "mobileProvider": "Verizon"]).id
            let header = "Id,First Name,Last Name,Email,Office Phone,Office Phone Country,Mobile Provider,SMS Gateway,Notes"
            // Empty optional cells clear their fields; absent columns (Thin Client) stay as they were.
            let report = try await app.importReport(site, csv: "\(header)\n\(alice),Alice,Able,alice@client.example,5550100,US,,'@vtext.com,\n")
            #expect(ReportCounts(report) == ReportCounts(edited: 1))
            let profile = try await app.get("/api/v1/client-profiles/\(alice)").json
            #expect(profile["notes"].isNull && profile["mobileProvider"].isNull)
            #expect(profile["smsGateway"].string == "@vtext.com")
            let events = try await app.auditEvents(entityId: alice)
            #expect(events.last?["action"].string == "updated")
        }
    }

    @Test func dryRunReportsWithoutWriting() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            let bob = try await app.profile(site, "Bob", "Baker").id
            let csv = "Id,First Name,Last Name,Office Phone,Office Phone Country,Delete\n,New,Person,5550100,US,\n\(bob),,,,,Y\n"
            let before = try await app.rowCounts()
            let report = try await app.importReport(site, csv: csv, dryRun: true)
            #expect(report["dryRun"].bool == true)
            #expect(ReportCounts(report) == ReportCounts(added: 1, deleted: 1))
            #expect(try await app.rowCounts() == before)
            let real = try await app.importReport(site, csv: csv)
            #expect(ReportCounts(real) == ReportCounts(added: 1, deleted: 1))
            #expect(try await app.count("contacts") == before["contacts"]!)
        }
    }

    @Test func reimportingTheSameFileChangesNothing() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            let csv = """
                First Name,Last Name,Email,Office Phone,Office Phone Country,Mobile Phone,Mobile Phone Country,SMS Gateway,Thin Client
                Ann,Email,ann@client.example,5550100,US,5550101,US,'@txt.att.com,Y
                Ned,Noemail,,5550102,US,,,,N

                """
            #expect(ReportCounts(try await app.importReport(site, csv: csv)) == ReportCounts(added: 2))
            let eventsBefore = try await app.count("audit_events")
            #expect(ReportCounts(try await app.importReport(site, csv: csv)) == ReportCounts(unchanged: 2))
            #expect(try await app.count("contacts") == 2)
            // Only the import's own summary event is new.
            #expect(try await app.count("audit_events") == eventsBefore + 1)
        }
    }

    /// Batches big enough to be written as several transactions at once (PostgreSQL) land whole:
    /// adds, then a file of edits, deletes and adds together, then nothing the second time.
    @Test func largeBatchesLandWhole() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            let header = "Id,First Name,Last Name,Email,Office Phone,Office Phone Country,Notes,Delete"
            let adds = (0..<1000).map { ",Ann\($0),Able,ann\($0)@client.example,555\(1_000_000 + $0),US,first," }
            #expect(ReportCounts(try await app.importReport(site, csv: ([header] + adds).joined(separator: "\n"))) == ReportCounts(added: 1000))
            let eventsBefore = try await app.count("audit_events")
            // By email: rows 0..<300 edited, 300..<600 deleted, 600..<1000 left alone; 600 new.
            let edits = (0..<300).map { ",Ann\($0),Able,ann\($0)@client.example,555\(1_000_000 + $0),US,second," }
            let deletes = (300..<600).map { ",,,ann\($0)@client.example,,,,Y" }
            let more = (0..<600).map { ",Ned\($0),Baker,ned\($0)@client.example,556\(1_000_000 + $0),US,," }
            let mixed = ([header] + edits + deletes + more).joined(separator: "\n")
            #expect(ReportCounts(try await app.importReport(site, csv: mixed)) == ReportCounts(added: 600, edited: 300, deleted: 300))
            #expect(try await app.count("contacts") == 1300)
            #expect(try await app.count("audit_events") == eventsBefore + 1200 + 1)
            #expect(ReportCounts(try await app.importReport(site, csv: mixed)) == ReportCounts(unchanged: 900, failed: 300), "the deleted profiles are gone")
            #expect(try await app.count("contacts") == 1300)
        }
    }

    @Test func tenMegabyteCellFailsItsRowOnly() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            let big = String(repeating: "x", count: 10 * 1_048_576)
            let csv = "First Name,Last Name,Office Phone,Office Phone Country,Notes\nBig,Cell,5550100,US,\"\(big)\"\nSmall,Cell,5550101,US,fine\n"
            let report = try await app.importReport(site, csv: csv)
            #expect(ReportCounts(report) == ReportCounts(added: 1, failed: 1))
            #expect(report["failures"][0]["cell"].string == "E2")
            #expect(report["failures"][0]["reason"].string?.contains("at most 4000 characters") == true)
        }
    }

    /// Only a capital `Y` deletes: `yes`, `y` and the like fail their row (naming the allowed values) and the
    /// profile stays; the Thin Client column takes `Y` and `N` alike.
    @Test func deleteAndThinClientTakeExactlyYOrN() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            let ids = [
                try await app.profile(site, "Yes", "Word").id, try await app.profile(site, "Small", "Y").id, try await app.profile(site, "Capital", "Y").id,
            ]
            let csv =
                "Id,First Name,Last Name,Office Phone,Office Phone Country,Thin Client,Delete\n\(ids[0]),,,,,,yes\n\(ids[1]),,,,,,y\n\(ids[2]),,,,,,Y\n"
                + ",Thin,Lower,5550101,US,y,\n,Thin,Upper,5550102,US,Y,N\n"
            let report = try await app.importReport(site, csv: csv)
            #expect(ReportCounts(report) == ReportCounts(added: 1, deleted: 1, failed: 3), "\(report)")
            #expect(report["failures"].array.map { $0["row"].int } == [2, 3, 5])
            #expect(report["failures"][0]["reason"].string == "'yes' in the delete column: only a capital Y deletes the profile; N or nothing keeps it")
            #expect(report["failures"][2]["column"].string == "Thin Client")
            #expect(report["failures"][2]["reason"].string?.contains("'y' must be Y or N") == true)
            expectStatus(try await app.get("/api/v1/client-profiles/\(ids[0])"), .ok)
            expectStatus(try await app.get("/api/v1/client-profiles/\(ids[1])"), .ok)
            expectStatus(try await app.get("/api/v1/client-profiles/\(ids[2])"), .notFound)
        }
    }

    @Test func rowThatCannotBeDeletedFailsAlone() async throws {
        try await withApp { app in
            let organization = try await app.organization("Acme")
            let site = try await app.site(organization, "HQ")
            let onTicket = try await app.profile(site, "Tess", "Ticket").id
            let free = try await app.profile(site, "Fred", "Free").id
            try await app.ticket(organization, extra: ["contactId": .string(onTicket)])
            let report = try await app.importReport(
                site, csv: "Id,First Name,Last Name,Office Phone,Office Phone Country,Delete\n\(onTicket),,,,,Y\n\(free),,,,,Y\n")
            #expect(ReportCounts(report) == ReportCounts(deleted: 1, failed: 1))
            #expect(report["failures"][0]["row"].int == 2)
            #expect(report["failures"][0]["reason"].string?.contains("tickets") == true)
            expectStatus(try await app.get("/api/v1/client-profiles/\(onTicket)"), .ok)
            expectStatus(try await app.get("/api/v1/client-profiles/\(free)"), .notFound)
        }
    }

    // MARK: Export and round trips

    @Test(arguments: ["csv", "xlsx"])
    func exportThenImportUnchangedReportsNoChanges(format: String) async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            try await app.profile(
                site, "=cmd|' /C calc'!A0", "+Plus", email: "formula@client.example",
                extra: [
                    "smsGateway": "@txt.att.com", "notes": "line one\nline two, \"quoted\"", "mobileProvider": "-Dash",
                ])
            try await app.profile(site, "'=Already", "Apostrophe", extra: ["notes": "'just an apostrophe"])
            try await app.profile(site, "Zoë", "Ünal", phone: "4930123456", country: "DE", extra: ["thinClient": true])
            let export = try await app.exportProfiles(site, format: format)
            expectStatus(export, .ok)
            #expect(export.headers.first(name: .contentDisposition)?.contains("hq-client-profiles.\(format)") == true)
            if format == "csv" {
                // Formula triggers are neutralized with one apostrophe.
                #expect(export.text.contains("'=cmd|' /C calc'!A0") && export.text.contains("'+Plus") && export.text.contains("'@txt.att.com"))
                #expect(export.text.contains("'-Dash") && export.text.contains("''=Already"))
            }
            let report = try await app.importProfiles(site, export.body, format: format)
            expectStatus(report, .ok)
            #expect(ReportCounts(report.json) == ReportCounts(unchanged: 3), "\(report)")
        }
    }

    @Test func templateHasTheHeaderOnly() async throws {
        try await withApp { app in
            for format in ["csv", "xlsx"] {
                let reply = try await app.get("/api/v1/client-profiles/template?format=\(format)")
                expectStatus(reply, .ok)
                let url = FileManager.default.temporaryDirectory.appendingPathComponent("template-\(UUID().uuidString).\(format)")
                try reply.body.write(to: url)
                defer { try? FileManager.default.removeItem(at: url) }
                let reader = try openTable(at: url, format: TableFormat(rawValue: format)!)
                #expect(try reader.next()?.cells == ProfileColumn.all.map(\.header))
                #expect(try reader.next() == nil)
            }
        }
    }

    /// The XLSX export opened by LibreOffice gives back the rows of the CSV export.
    @Test(.enabled(if: LibreOfficeCheck.available)) func libreOfficeReadsTheXLSXExport() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            try await app.profile(site, "=cmd", "Formula", email: "f@client.example", extra: ["notes": "two\nlines, \"quoted\"", "smsGateway": "@txt.att.com"])
            try await app.profile(site, "Zoë", "Ünal", phone: "004930123456", country: "DE", extra: ["thinClient": true])
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lo-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let xlsx = folder.appendingPathComponent("export.xlsx"), csv = folder.appendingPathComponent("ours.csv")
            try (try await app.exportProfiles(site, format: "xlsx")).body.write(to: xlsx)
            try (try await app.exportProfiles(site, format: "csv")).body.write(to: csv)
            let converted = try LibreOfficeCheck.convertToCSV(xlsx, in: folder)
            let theirs = try readRows(converted), ours = try readRows(csv)
            #expect(theirs.count == 3)
            #expect(theirs == ours)
        }
    }

    func readRows(_ url: URL) throws -> [[String]] {
        let reader = try openTable(at: url, format: .csv)
        var rows: [[String]] = []
        while let row = try reader.next() {
            var cells = row.cells
            while cells.last == "" { cells.removeLast() }
            rows.append(cells)
        }
        return rows
    }

    // MARK: Access

    @Test func importAndExportFollowThePolicy() async throws {
        try await withApp { app in
            try await app.setCoManagement(enabled: true)
            let mine = try await app.coManagedOrganization("Client A")
            let theirs = try await app.coManagedOrganization("Client B")
            let mySite = try await app.site(mine, "A HQ"), theirSite = try await app.site(theirs, "B HQ")
            let theirProfile = try await app.profile(theirSite, "Bea", "B").id
            let queue = try await app.queue("Client A desk")
            let helpDesk = try await app.coManagingUser("ahelp", organizationId: mine, queueIds: [queue])
            let basic = try await app.coManagingUser("abasic", organizationId: mine, queueIds: [queue], level: .coManagedBasic)
            try await app.setUp(mine, users: [helpDesk.id, basic.id])
            let helpDeskToken = try await app.loginCoManaging(helpDesk.id, "ahelp")
            let basicToken = try await app.loginCoManaging(basic.id, "abasic")
            let restricted = try await app.resource("rita", restrictions: [mine])
            let csv = "First Name,Last Name,Office Phone,Office Phone Country\nNew,Person,5550100,US\n"

            // Their own organization: export and import as the level allows.
            expectStatus(try await app.exportProfiles(mySite, as: helpDeskToken), .ok)
            let imported = try await app.importProfiles(mySite, csv: csv, as: helpDeskToken)
            expectStatus(imported, .ok)
            #expect(ReportCounts(imported.json) == ReportCounts(added: 1))
            // Co-managed Help Desk may add and edit but not delete: delete rows fail one by one.
            let created = try await app.get("/api/v1/client-profiles?siteId=\(mySite)", as: helpDeskToken).json.ids
            try #require(created.count == 1)
            let deleting = try await app.importProfiles(
                mySite, csv: "Id,First Name,Last Name,Office Phone,Office Phone Country,Delete\n\(created[0]),,,,,Y\n", as: helpDeskToken)
            #expect(ReportCounts(deleting.json) == ReportCounts(failed: 1))
            #expect(deleting.json["failures"][0]["reason"].string?.contains("does not allow deleting") == true)
            // Co-managed Basic sees contacts but may not import.
            expectStatus(try await app.exportProfiles(mySite, as: basicToken), .ok)
            expectProblem(try await app.importProfiles(mySite, csv: csv, as: basicToken), .forbidden)

            // Another organization's site does not exist for them (404), on every path.
            for token in [helpDeskToken, basicToken, restricted.token] {
                expectProblem(try await app.exportProfiles(theirSite, as: token), .notFound)
                expectProblem(try await app.importProfiles(theirSite, csv: csv, as: token), .notFound)
                expectStatus(try await app.get("/api/v1/client-profiles/\(theirProfile)", as: token), .notFound)
                #expect(try await app.get("/api/v1/client-profiles", as: token).json.ids.contains(theirProfile) == false)
            }
            // An id from another site in a file fails the row with the same words as an unknown id.
            let probe = try await app.importProfiles(
                mySite, csv: "Id,First Name,Last Name,Office Phone,Office Phone Country\n\(theirProfile),X,Y,1,US\n", as: restricted.token)
            #expect(
                probe.json["failures"][0]["reason"].string == "no profile with the id '\(theirProfile)' at this site; leave the Id empty to add a new profile")
            #expect(try await app.get("/api/v1/client-profiles/\(theirProfile)").json["firstName"].string == "Bea")
        }
    }

    @Test func badUploadsAreRefusedClearly() async throws {
        try await withApp { app in
            let site = try await app.site(try await app.organization("Acme"), "HQ")
            expectProblem(
                try await app.importProfiles(site, Data("PK\u{3}\u{4}garbage".utf8), format: "xlsx"), .unprocessableEntity, field: "file", contains: "XLSX")
            let reply = try await app.send(.POST, "/api/v1/sites/\(site)/client-profiles/import", raw: "{}", headers: ["Content-Type": "application/json"])
            expectProblem(reply, .unsupportedMediaType)
            expectProblem(try await app.get("/api/v1/sites/\(site)/client-profiles/export?format=pdf"), .unprocessableEntity, field: "format")
            expectProblem(
                try await app.send(.POST, "/api/v1/sites/\(site)/client-profiles/import?format=csv&dryRun=maybe", raw: "x"),
                .unprocessableEntity, field: "dryRun")
        }
    }
}

/// LibreOffice, when installed (CI installs it; `TANDEM_REQUIRE_LIBREOFFICE=1` turns its absence into a failure).
enum LibreOfficeCheck {
    static let path = ["/usr/bin/soffice", "/usr/bin/libreoffice", "/usr/local/bin/soffice"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var available: Bool { path != nil || ProcessInfo.processInfo.environment["TANDEM_REQUIRE_LIBREOFFICE"] == "1" }

    static func convertToCSV(_ file: URL, in folder: URL) throws -> URL {
        guard let path else { throw TestSetupError("LibreOffice is required (TANDEM_REQUIRE_LIBREOFFICE=1) but not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        // UTF-8 (76), comma, double quotes; its own profile directory so parallel runs do not collide.
        process.arguments = [
            "-env:UserInstallation=file://\(folder.path)/profile", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir", folder.appendingPathComponent("out").path, file.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let output = folder.appendingPathComponent("out").appendingPathComponent(file.deletingPathExtension().lastPathComponent + ".csv")
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: output.path) else {
            throw TestSetupError("LibreOffice could not convert \(file.lastPathComponent) (exit \(process.terminationStatus))")
        }
        return output
    }
}
