import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The credential vault (SPEC §9, issue 20): secrets sealed with envelope encryption, never listed,
/// revealed only with the permission (audited, rate-limited), rotated in one transaction.
@Suite struct VaultTests {
    /// An organization with a site, and a credential on it; (organization, site, credential).
    static func planted(_ t: TestApp, secret: String, name: String = "Domain admin") async throws -> (String, String, String) {
        let organization = try await t.organization("Vault Org \(UUID().uuidString.prefix(6))")
        let site = try await t.site(organization, "Head office")
        let credential = try await t.create(
            "/api/v1/sites/\(site)/credentials",
            ["kind": "server", "name": .string(name), "username": "administrator", "secret": .string(secret), "url": "rdp://dc01.example", "notes": "Main DC"])
        return (organization, site, credential.id)
    }

    /// Every row of the tables a secret could leak into, as text.
    static func tableDump(_ t: TestApp) async throws -> String {
        var text = ""
        for table in ["site_credentials", "audit_events", "events", "co_managing_users", "login_throttles"] {
            if case .postgres = t.app.settings.options.storage {
                for row in try await t.db.sql.raw("SELECT row_to_json(x)::text AS j FROM \(ident: table) x").all() {
                    text += try row.decode(column: "j", as: String.self)
                }
            } else {
                // Every column as text (SQLite converts any value with `||`).
                let columns = try await t.db.sql.raw("SELECT name FROM pragma_table_info(\(bind: table))").all().map {
                    try $0.decode(column: "name", as: String.self)
                }
                for row in try await t.db.sql.raw("SELECT * FROM \(ident: table)").all() {
                    for column in columns {
                        if let value = try? row.decode(column: column, as: String?.self) { text += value ?? "" }
                    }
                }
            }
        }
        return text
    }

    @Test func aPlantedSecretNeverAppearsInPlaintext() async throws {
        try await withApp { t in
            // Every level logged, and every line kept while this test runs (`TestLogs`).
            t.app.logger.logLevel = .trace
            let canary = "canary-\(UUID().uuidString)"
            let logs = try await TestLogs.capture {
                try await Self.plantAndRead(t, canary: canary)
            }
            #expect(logs.contains { $0.contains("POST") || $0.contains("reveal") }, "the logs were captured (\(logs.count) lines)")
            for line in logs { #expect(!line.contains(canary), "a log line holds the secret: \(line.prefix(300))") }
        }
    }

    static func plantAndRead(_ t: TestApp, canary: String) async throws {
        do {
            let (organization, site, id) = try await Self.planted(t, secret: canary)
            var seen: [String] = []
            seen.append(try await t.get("/api/v1/sites/\(site)/credentials").text)
            seen.append(try await t.get("/api/v1/credentials/\(id)").text)
            seen.append(try await t.patch("/api/v1/credentials/\(id)", ["notes": "Rebuilt"]).text)
            // Error bodies: a validation problem and a refused reveal.
            seen.append(try await t.post("/api/v1/sites/\(site)/credentials", ["kind": "nope", "name": "", "secret": .string(canary)]).text)
            seen.append(try await t.patch("/api/v1/credentials/\(id)", ["secret": .string(canary + "\u{0}")]).text)
            let coManager = try await Self.coManagingToken(t, organization: organization)
            seen.append(try await t.post("/api/v1/credentials/\(id)/reveal", [:], as: coManager).text)
            // The reveal itself answers the secret, and its audit entry does not.
            let revealed = try await t.must(.ok, .POST, "/api/v1/credentials/\(id)/reveal")
            #expect(revealed["secret"].string == canary)
            seen.append(try await t.get("/api/v1/audit-events?limit=200").text)
            let export = try await t.get("/api/v1/organizations/\(organization)/audit-export?format=csv")
            expectStatus(export, .ok)
            #expect(export.text.contains("revealed"), "the export holds the reveal")
            seen.append(export.text)
            seen.append(try await t.get("/api/v1/organizations/\(organization)/audit-export?format=jsonl").text)
            let dump = try await Self.tableDump(t)
            #expect(dump.contains("Domain admin") && dump.contains("revealed"), "the dump reads the tables")
            seen.append(dump)
            if case .sqlite(let path) = t.app.settings.options.storage {
                var bytes = Data()
                for suffix in ["", "-wal"] { bytes += (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data() }
                #expect(bytes.count > 10_000)
                #expect(bytes.range(of: Data(canary.utf8)) == nil, "the SQLite file holds the secret in plaintext")
                #expect(bytes.range(of: Data("Main DC".utf8)) != nil, "the scan reads the file")
            }
            for text in seen { #expect(!text.contains(canary), "\(text.prefix(300))") }
            let events = try await t.auditEvents(entityId: id)
            #expect(events.map { $0["action"].string ?? "" }.contains("revealed"))
        }
    }

    /// A co-managing user of `organization` with the Co-managed Help Desk level (vault: view); its token.
    static func coManagingToken(_ t: TestApp, organization: String, level: SystemSecurityLevel = .coManagedHelpDesk, name: String = "cora") async throws
        -> String
    {
        try await coManagingTokens(t, organization: organization, [(name, level)])[0]
    }

    /// Co-managing users of `organization`, all associated with it; their tokens.
    static func coManagingTokens(_ t: TestApp, organization: String, _ users: [(String, SystemSecurityLevel)]) async throws -> [String] {
        try await t.setCoManagement(enabled: true)
        try await t.setUp(organization, coManaged: true)
        let queue = try await t.queue("Vault desk")
        var ids: [String] = []
        for (name, level) in users { ids.append(try await t.coManagingUser(name, organizationId: organization, queueIds: [queue], level: level).id) }
        try await t.setUp(organization, users: ids)
        var tokens: [String] = []
        for (id, user) in zip(ids, users) { tokens.append(try await t.loginCoManaging(id, user.0)) }
        return tokens
    }

    @Test func listsNeverCarryTheSecretAndValidationNamesTheField() async throws {
        try await withApp { t in
            let (_, site, id) = try await Self.planted(t, secret: "hunter2-hunter2")
            let list = try await t.must(.ok, .GET, "/api/v1/sites/\(site)/credentials")
            #expect(list["items"].array.count == 1)
            #expect(list["items"][0]["id"].string == id)
            #expect(list["items"][0]["secret"] == .null)
            #expect(list["nextCursor"] == .null)
            expectProblem(
                try await t.post("/api/v1/sites/\(site)/credentials", ["kind": "server", "name": "No secret"]), .unprocessableEntity, field: "secret")
            expectProblem(
                try await t.post("/api/v1/sites/\(site)/credentials", ["kind": "mainframe", "name": "X", "secret": "x"]), .unprocessableEntity, field: "kind")
            expectProblem(
                try await t.post("/api/v1/sites/\(site)/credentials", ["kind": "server", "name": "", "secret": "x"]), .unprocessableEntity, field: "name")
            expectProblem(
                try await t.post("/api/v1/sites/\(site)/credentials", ["kind": "server", "name": "X", "secret": "x", "deviceId": .string(UUID().uuidString)]),
                .unprocessableEntity, field: "deviceId")
            // The secret is never trimmed; line breaks pass, other control characters are refused.
            for control in ["\u{0}", "\u{8}", "\u{1B}", "\u{7F}", "\u{85}"] {
                expectProblem(try await t.patch("/api/v1/credentials/\(id)", ["secret": .string("a\(control)b")]), .unprocessableEntity, field: "secret")
            }
            try await t.must(.ok, .PATCH, "/api/v1/credentials/\(id)", ["secret": "  line one\nline two\t "])
            #expect(try await t.must(.ok, .POST, "/api/v1/credentials/\(id)/reveal")["secret"].string == "  line one\nline two\t ")
            // A changed secret is sealed again with a fresh data key; an unchanged one stays as it was.
            let before = try await Self.sealed(t, id)
            try await t.must(.ok, .PATCH, "/api/v1/credentials/\(id)", ["name": "Renamed"])
            #expect(try await Self.sealed(t, id) == before)
            try await t.must(.ok, .PATCH, "/api/v1/credentials/\(id)", ["secret": "new-secret-value"])
            let after = try SealedSecret(stored: try await Self.sealed(t, id))
            #expect(after.wrappedKey != (try SealedSecret(stored: before)).wrappedKey)
            #expect(try await t.must(.ok, .POST, "/api/v1/credentials/\(id)/reveal")["secret"].string == "new-secret-value")
            try await t.must(.noContent, .DELETE, "/api/v1/credentials/\(id)")
            expectStatus(try await t.get("/api/v1/credentials/\(id)"), .notFound)
        }
    }

    static func sealed(_ t: TestApp, _ id: String) async throws -> String {
        try await SiteCredential.find(UUID(uuidString: id)!, on: t.db)!.secretSealed
    }

    @Test func tamperedOrMovedCiphertextIsRefused() async throws {
        try await withApp { t in
            let (_, site, id) = try await Self.planted(t, secret: "tamper-canary-1")
            let other = try await t.create("/api/v1/sites/\(site)/credentials", ["kind": "desktop", "name": "Front desk", "secret": "tamper-canary-2"]).id
            let stored = try await Self.sealed(t, id)
            // One character of the sealed secret changed.
            var parts = stored.split(separator: ".").map(String.init)
            let last = parts[3]
            let index = last.index(last.startIndex, offsetBy: 20)
            parts[3] = last.replacingCharacters(in: index...index, with: last[index] == "A" ? "B" : "A")
            try await t.db.sql.raw(
                "UPDATE site_credentials SET secret_sealed = \(bind: parts.joined(separator: ".")) WHERE id = \(bind: UUID(uuidString: id)!)"
            ).run()
            let tampered = try await t.post("/api/v1/credentials/\(id)/reveal", [:])
            expectProblem(tampered, .internalServerError, contains: "integrity")
            #expect(!tampered.text.contains("tamper-canary"))
            // A ciphertext copied to another row does not open there.
            try await t.db.sql.raw("UPDATE site_credentials SET secret_sealed = \(bind: stored) WHERE id = \(bind: UUID(uuidString: other)!)").run()
            expectProblem(try await t.post("/api/v1/credentials/\(other)/reveal", [:]), .internalServerError, contains: "integrity")
        }
    }

    @Test func rotationRewrapsEveryKeyAndTheOldKeyFailsClosed() async throws {
        try await withApp { t in
            let (organization, site, first) = try await Self.planted(t, secret: "rotate-one")
            let second = try await t.create("/api/v1/sites/\(site)/credentials", ["kind": "application", "name": "ERP", "secret": "rotate-two"]).id
            // A co-managing user with a sealed TOTP secret.
            _ = try await Self.coManagingToken(t, organization: organization)
            let user = try #require(try await CoManagingUser.query(on: t.db).filter(\.$username == "cora").first())
            try TOTPSecrets.store("JBSWY3DPEHPK3PXP", in: user, on: t.db)
            try await t.db.write { db in try await user.save(on: db) }
            let oldTOTP = try #require(user.totpSecretSealed)
            let before = [try await Self.sealed(t, first), try await Self.sealed(t, second)]
            // A webhook, whose signing secret is sealed too.
            t.app.settings.webhookGuard = SSRFGuard(allowedRanges: [CIDRRange("127.0.0.0/8")!])
            let hookReply = try await t.post("/api/v1/webhooks", ["url": "http://127.0.0.1:9/hook", "eventTypes": ["ticket.created"]])
            expectStatus(hookReply, .created)
            let hookSecret = try #require(hookReply.json["secret"].string)
            let hookId = try #require(hookReply.json["id"].string.flatMap(UUID.init(uuidString:)))
            let hook = try #require(try await Webhook.find(hookId, on: t.db))

            let newVault = Vault(masterKey: .generate())
            let result = try await RotateVaultKeyCommand.rotate(to: newVault, on: t.db)
            #expect(result.credentials == 2 && result.totpSecrets == 1 && result.webhookSecrets == 1)
            let newHookSealed = try #require(try await Webhook.find(hook.id, on: t.db)?.secretSealed)
            #expect(newHookSealed != hook.secretSealed)
            #expect(try newVault.open(stored: newHookSealed, for: WebhookSecrets.binding(hook.id!)) == hookSecret)
            let after = [try await Self.sealed(t, first), try await Self.sealed(t, second)]
            for (old, new) in zip(before, after) {
                let oldSealed = try SealedSecret(stored: old), newSealed = try SealedSecret(stored: new)
                #expect(newSealed.wrappedKey != oldSealed.wrappedKey)
                #expect(newSealed.keyId == newVault.masterKey.id)
            }
            #expect(try newVault.open(stored: after[0], for: SiteCredential.binding(UUID(uuidString: first)!)) == "rotate-one")
            #expect(try newVault.open(stored: after[1], for: SiteCredential.binding(UUID(uuidString: second)!)) == "rotate-two")
            let newTOTP = try #require(try await CoManagingUser.find(user.id, on: t.db)?.totpSecretSealed)
            #expect(newTOTP != oldTOTP)
            #expect(try newVault.open(stored: newTOTP, for: TOTPSecrets.binding(user.id!)) == "JBSWY3DPEHPK3PXP")
            // The app still runs with the old key: it fails closed, saying why, and never shows garbage.
            let refused = try await t.post("/api/v1/credentials/\(first)/reveal", [:])
            expectProblem(refused, .internalServerError, contains: "the vault key does not match the key these secrets were sealed with")
            #expect(!refused.text.contains("rotate-one"))
            #expect(!refused.text.contains(newVault.masterKey.id), "the keys' fingerprints go to the log, not to the caller")
            // Rotating to the key already in use is refused.
            await #expect(throws: TandemError.self) { _ = try await RotateVaultKeyCommand.rotate(to: try t.db.vault(), on: t.db) }
        }
    }

    @Test func whoMayListAndReveal() async throws {
        try await withApp { t in
            let (organization, site, id) = try await Self.planted(t, secret: "matrix-secret")
            let elsewhere = try await t.organization("Elsewhere")
            let tech = try await t.resource("vtech", .technician).token
            let dispatcher = try await t.resource("vdispatch", .dispatcher).token
            let helpDesk = try await t.resource("vhelp", .helpDesk).token
            let restricted = try await t.resource("vrestricted", .technician, restrictions: [elsewhere]).token
            let coTokens = try await Self.coManagingTokens(t, organization: organization, [("cora", .coManagedHelpDesk), ("basil", .coManagedBasic)])
            let (coHelpDesk, coBasic) = (coTokens[0], coTokens[1])
            let contactId = try await t.contact(organization, "Carl")
            let contact = try await t.portalLogin(contactId, email: "carl@client.example")
            let list = "/api/v1/sites/\(site)/credentials", item = "/api/v1/credentials/\(id)", reveal = "/api/v1/credentials/\(id)/reveal"
            // (token, list, read, reveal)
            let cases: [(String, String, HTTPStatus, HTTPStatus, HTTPStatus)] = [
                ("admin", t.adminToken, .ok, .ok, .ok),
                ("technician", tech, .ok, .ok, .ok),
                ("dispatcher", dispatcher, .notFound, .notFound, .notFound),
                ("help desk", helpDesk, .notFound, .notFound, .notFound),
                ("restricted technician", restricted, .notFound, .notFound, .notFound),
                ("co-managed help desk", coHelpDesk, .ok, .ok, .forbidden),
                ("co-managed basic", coBasic, .notFound, .notFound, .notFound),
                ("contact", contact, .notFound, .notFound, .notFound),
            ]
            for (who, token, listStatus, readStatus, revealStatus) in cases {
                #expect(try await t.get(list, as: token).status == listStatus, "\(who) list")
                #expect(try await t.get(item, as: token).status == readStatus, "\(who) read")
                let answer = try await t.post(reveal, [:], as: token)
                #expect(answer.status == revealStatus, "\(who) reveal: \(answer)")
                if revealStatus != .ok { #expect(!answer.text.contains("matrix-secret"), "\(who)") }
            }
            // Only levels with the vault at add and more create; the technician views.
            expectStatus(try await t.post(list, ["kind": "server", "name": "T", "secret": "x"], as: tech), .forbidden)
            expectStatus(try await t.patch(item, ["name": "T"], as: tech), .forbidden)
            expectStatus(try await t.delete(item, as: coHelpDesk), .forbidden)
            let reveals = try await t.auditEvents(entityId: id).filter { $0["action"].string == "revealed" }
            #expect(reveals.count == 2, "the admin's and the technician's reveals are audited, the refused ones are not")
        }
    }

    @Test func revealsAreRateLimitedPerPrincipal() async throws {
        try await withApp { t in
            let (_, _, id) = try await Self.planted(t, secret: "limit-secret")
            let tech = try await t.resource("vlimit", .technician).token
            for _ in 0..<SiteCredentials.revealLimit { expectStatus(try await t.post("/api/v1/credentials/\(id)/reveal", [:], as: tech), .ok) }
            let refused = try await t.post("/api/v1/credentials/\(id)/reveal", [:], as: tech)
            expectProblem(refused, .tooManyRequests)
            #expect(refused.headers.first(name: .retryAfter) == "900")
            #expect(!refused.text.contains("limit-secret"))
            // Someone else is not limited by it.
            expectStatus(try await t.post("/api/v1/credentials/\(id)/reveal", [:]), .ok)
        }
    }

    @Test func twoFactorSecretsAreSealed() async throws {
        try await withApp { t in
            let organization = try await t.organization("TOTP Org")
            _ = try await Self.coManagingToken(t, organization: organization, name: "tess")
            let user = try #require(try await CoManagingUser.query(on: t.db).filter(\.$username == "tess").first())
            // The first login without a pause asks for enrolment; the secret shown is stored sealed.
            let first = try await t.post("/api/v1/auth/token", ["username": "tess", "password": .string(TestApp.password)], as: "")
            let enrolment = try #require(first.json["enrolmentToken"].string)
            let secret = try #require(try await t.must(.ok, .POST, "/api/v1/me/totp", as: enrolment)["secret"].string)
            let row = try #require(try await t.db.sql.raw("SELECT totp_secret, totp_secret_sealed FROM co_managing_users WHERE id = \(bind: user.id!)").first())
            #expect(try row.decode(column: "totp_secret", as: String?.self) == nil)
            let sealed = try #require(try row.decode(column: "totp_secret_sealed", as: String?.self))
            #expect(!sealed.contains(secret))
            #expect(try t.db.vault().open(stored: sealed, for: TOTPSecrets.binding(user.id!)) == secret)
        }
    }

    /// An upgrade: a TOTP secret an older version stored in plain text is sealed by migration 052's step,
    /// and the user still logs in with codes of the same secret.
    @Test func plainTwoFactorSecretsOfAnOlderVersionAreSealed() async throws {
        try await withApp { t in
            let organization = try await t.organization("Upgrade Org")
            _ = try await Self.coManagingToken(t, organization: organization, name: "ulla")
            let user = try #require(try await CoManagingUser.query(on: t.db).filter(\.$username == "ulla").first())
            let plain = "JBSWY3DPEHPK3PXP"
            try await t.db.sql.raw(
                "UPDATE co_managing_users SET totp_secret = \(bind: plain), totp_secret_sealed = NULL, totp_confirmed = \(bind: true) WHERE id = \(bind: user.id!)"
            ).run()
            #expect(try await CreateSiteCredentials.sealPlainTOTPSecrets(on: t.db) == 1)
            let row = try #require(try await t.db.sql.raw("SELECT totp_secret, totp_secret_sealed FROM co_managing_users WHERE id = \(bind: user.id!)").first())
            #expect(try row.decode(column: "totp_secret", as: String?.self) == nil)
            let sealed = try #require(try row.decode(column: "totp_secret_sealed", as: String?.self))
            #expect(!sealed.contains(plain))
            #expect(try t.db.vault().open(stored: sealed, for: TOTPSecrets.binding(user.id!)) == plain)
            let code = TandemCore.TOTP(secret: try #require(Base32.decode(plain))).code(at: Date())
            let login = try await t.post("/api/v1/auth/token", ["username": "ulla", "password": .string(TestApp.password), "totp": .string(code)], as: "")
            expectStatus(login, .ok)
            #expect(try await CreateSiteCredentials.sealPlainTOTPSecrets(on: t.db) == 0, "nothing plain is left")
        }
    }

    @Test func keysComeFromAFileTheEnvironmentOrBesideTheSQLiteFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vault-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        let database = directory.appendingPathComponent("tandem.sqlite").path
        var options = AppOptions(storage: .sqlite(path: database))
        let created = try VaultKeys.resolve(options, logger: logger)
        let keyFile = VaultKeys.defaultKeyFile(forDatabase: database)
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try VaultKeys.resolve(options, logger: logger) == created, "the file made the first time is read after")
        let given = VaultMasterKey.generate()
        options.vaultKeyText = given.fileText
        #expect(try VaultKeys.resolve(options, logger: logger) == given)
        let file = directory.appendingPathComponent("other.key").path
        let other = VaultMasterKey.generate()
        try other.fileText.write(toFile: file, atomically: true, encoding: .utf8)
        options.vaultKeyFile = file
        #expect(try VaultKeys.resolve(options, logger: logger) == other, "the file wins over the variable")
        options.vaultKeyFile = directory.appendingPathComponent("missing.key").path
        #expect(throws: TandemError.self) { try VaultKeys.resolve(options, logger: logger) }
        options.vaultKeyFile = nil
        options.vaultKeyText = "too-short"
        #expect(throws: TandemError.self) { try VaultKeys.resolve(options, logger: logger) }
        // PostgreSQL without a key refuses to start.
        let postgres = AppOptions(storage: .postgres(url: "postgres://localhost/none"))
        #expect(throws: TandemError.self) { try VaultKeys.resolve(postgres, logger: logger) }
    }

    @Test func passwordsPages() async throws {
        try await withApp { t in
            let organization = try await t.organization("Page Org")
            let site = try await t.site(organization, "Branch")
            let session = try await t.pageSession("admin", TestApp.adminPassword)
            let sitePage = try await t.page("/sites/\(site)", session: session)
            #expect(sitePage.text.contains("/sites/\(site)/passwords"))
            // A field error is shown next to its field, and nothing is stored.
            let invalid = try await t.submitForm(
                "/sites/\(site)/passwords", [("kind", "server"), ("name", ""), ("secret", "page-secret-1")], session: session)
            expectStatus(invalid, .unprocessableEntity)
            #expect(invalid.text.contains("id=\"name-error\""))
            #expect(!invalid.text.contains("page-secret-1"))
            let added = try await t.submitForm(
                "/sites/\(site)/passwords", [("kind", "lightsOutManagement"), ("name", "iLO"), ("username", "root"), ("secret", "page-secret-1")],
                session: session)
            expectStatus(added, .seeOther)
            let location = try #require(added.headers.first(name: .location))
            let id = String(try #require(location.split(separator: "?").first).split(separator: "/").last!)
            let list = try await t.page("/sites/\(site)/passwords", session: session)
            #expect(list.text.contains("iLO") && list.text.contains("Reveal"))
            #expect(!list.text.contains("page-secret-1"))
            let revealed = try await t.submitForm("/credentials/\(id)/reveal", [], session: session)
            expectStatus(revealed, .ok)
            #expect(revealed.text.contains("page-secret-1"))
            #expect(revealed.headers.first(name: .cacheControl) == "no-store")
            let edit = try await t.page("/credentials/\(id)", session: session)
            #expect(!edit.text.contains("page-secret-1"))
            let confirm = try await t.page("/credentials/\(id)/delete", session: session)
            #expect(confirm.text.contains("removed from the vault"))
            expectStatus(try await t.submitForm("/credentials/\(id)/delete", [], session: session), .seeOther)
            #expect(try await t.count("site_credentials") == 0)
        }
    }
}
