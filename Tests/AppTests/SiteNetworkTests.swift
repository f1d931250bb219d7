import Foundation
import TandemCore
import Testing

@testable import App

/// A site's network information through the API (SPEC §9): checked whole with each problem naming its
/// field, linked credentials from the site's own vault only, read by whoever sees the site, changed by
/// whoever may change it, audited, hidden sites 404.
@Suite struct SiteNetworkTests {
    @Test func storedValidatedAndAudited() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let site = try await t.site(contoso, "HQ")
            let other = try await t.site(fabrikam, "Main")
            let path = "/api/v1/sites/\(site)/network"
            let credential = try await t.create(
                "/api/v1/sites/\(site)/credentials",
                ["kind": "application", "name": "M365 admin", "username": "admin@contoso.example", "secret": "s3cret-value"]
            ).id
            let foreign = try await t.create("/api/v1/sites/\(other)/credentials", ["kind": "server", "name": "DC", "secret": "other-secret"]).id

            let empty = try await t.get(path)
            expectStatus(empty, .ok)
            #expect(empty.json["printers"] == [] && empty.json["present"] == false)

            let body: JSON = [
                "printers": [["type": "network laser", "name": " Front desk ", "model": "HP M404", "ipAddress": "10.0.0.25"]],
                "networkDrives": [["name": "Shared", "path": "\\\\fs01\\shared"]],
                "email": ["provider": "Microsoft 365", "adminPortalURL": "https://admin.microsoft.com", "credentialId": .string(credential)],
                "remoteAccess": [["kind": "vpn", "address": "vpn.contoso.example", "setupGuide": "1. Install the client\n2. Sign in"]],
                "applications": [["name": "Dentrix", "notes": "Practice management"]],
                "activeDirectory": ["serverName": "DC01", "domain": "corp.contoso.example"],
                "backup": ["server": "BK01", "address": "fe80::1"],
            ]
            let saved = try await t.put(path, body)
            expectStatus(saved, .ok)
            #expect(saved.json["printers"][0]["name"] == "Front desk", "trimmed")
            #expect(saved.json["present"] == true)
            let read = try await t.get(path).json
            #expect(read["email"]["credentialId"] == .string(credential))
            #expect(read["remoteAccess"][0]["setupGuide"] == "1. Install the client\n2. Sign in")
            #expect(read["networkDrives"][0]["path"] == "\\\\fs01\\shared")
            // The vault's secret is never part of it.
            #expect(!(try await t.get(path).text.contains("s3cret-value")))

            for (bad, field) in [
                (["printers": [["name": "P", "ipAddress": "10.0.0.256"]]] as JSON, "printers[0].ipAddress"),
                (["printers": [["name": "  "]]], "printers[0].name"),
                (["email": ["provider": "M365", "adminPortalURL": "javascript:alert(1)"]], "email.adminPortalURL"),
                (["email": ["provider": "M365", "credentialId": .string(foreign)]], "email.credentialId"),
                (["backup": ["server": "BK", "credentialId": .string(UUID().uuidString)]], "backup.credentialId"),
                (["networkDrives": [["name": "S", "path": ""]]], "networkDrives[0].path"),
                (["activeDirectory": ["serverName": "DC\u{0}1"]], "activeDirectory.serverName"),
            ] {
                expectProblem(try await t.put(path, bad), .unprocessableEntity, field: field)
            }
            expectStatus(try await t.put(path, ["remoteAccess": [["kind": "telnet", "address": "x"]]]), .unprocessableEntity)
            #expect(try await t.get(path).json["printers"][0]["ipAddress"] == "10.0.0.25", "a refused body wrote nothing")

            // Who may read and change it.
            // The documentation area decides: a dispatcher reads it, a technician also changes it.
            let (_, dispatcher) = try await t.resource("dan", .dispatcher)
            expectStatus(try await t.get(path, as: dispatcher), .ok)
            expectProblem(try await t.put(path, ["printers": []], as: dispatcher), .forbidden)
            let (_, technician) = try await t.resource("tess")
            expectStatus(try await t.get(path, as: technician), .ok)
            let (_, restricted) = try await t.resource("rita", restrictions: [fabrikam])
            expectProblem(try await t.get(path, as: restricted), .notFound)
            expectProblem(try await t.get("/api/v1/sites/\(UUID())/network"), .notFound)

            let audit = try await t.get("/api/v1/audit-events?limit=200").json["items"].array
            #expect(audit.filter { $0["action"] == "networkUpdated" }.count == 1)
        }
    }

    @Test(arguments: [
        ("10.0.0.1", true), ("255.255.255.255", true), ("256.1.1.1", false), ("01.2.3.4", false), ("1.2.3", false), ("::1", true),
        ("fe80::1:2", true), ("2001:db8:0:0:0:0:0:1", true), ("2001:db8::0:0:0:0:0:1", false), ("::ffff:192.0.2.1", true), ("1::2::3", false),
        ("printer", false), ("12345::", false),
    ])
    func ipAddresses(_ text: String, _ valid: Bool) {
        #expect(TandemCore.IPAddressText.isValid(text) == valid, "\(text)")
    }
}
