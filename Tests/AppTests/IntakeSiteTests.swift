import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The site help desk profile (its fields and their rules), managed devices, and the activation
/// checklist that follows the data as it is completed.
@Suite struct IntakeSiteTests {
    @Test func theHelpDeskProfileIsValidatedWhole() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let site = try await t.site(contoso, "HQ")
            let path = "/api/v1/sites/\(site)"
            let saved = try await t.patch(
                path,
                [
                    "mainPhone": "+1 (212) 555-0100", "clientEmailDomain": "Contoso.Example.", "greetingCompanyName": "Contoso Ltd",
                    "siteMessage": "CEO travelling: route his calls to Ann.", "agentInstallOptIn": true, "agentInstallFee": "25.00",
                ])
            expectStatus(saved, .ok)
            #expect(saved.json["mainPhoneE164"] == "+12125550100" && saved.json["mainPhone"] == "+1 (212) 555-0100")
            #expect(saved.json["clientEmailDomain"] == "contoso.example" && saved.json["noClientEmailDomain"] == false)
            #expect(saved.json["agentInstallFee"] == "25.00" && saved.json["agentInstallOptIn"] == true)

            // Every problem at once, nothing written.
            let refused = try await t.patch(path, ["clientEmailDomain": "gmail.com", "mainPhone": "12", "agentInstallFee": "-3"])
            expectStatus(refused, .unprocessableEntity)
            let fields = Set(refused.json["errors"].array.compactMap { $0["field"].string })
            #expect(fields == ["clientEmailDomain", "mainPhone", "agentInstallFee"])
            #expect(refused.json["errors"].array.contains { ($0["message"].string ?? "").contains("gmail.com is a public mail domain") })
            #expect(try await t.get(path).json["clientEmailDomain"] == "contoso.example")

            // Null chooses "no client email domain"; a national number reads with the site's country.
            let none = try await t.patch(path, ["clientEmailDomain": .null, "mainPhone": "(212) 555-0199"])
            expectStatus(none, .ok)
            #expect(none.json["clientEmailDomain"] == .null && none.json["noClientEmailDomain"] == true)
            #expect(none.json["mainPhoneE164"] == "+12125550199")
            expectStatus(try await t.patch(path, ["agentInstallFee": .null]), .unprocessableEntity)

            let stranger = try await t.contact(fabrikam, "Fred")
            let wrongContact = try await t.patch(path, ["helpDeskContactId": .string(stranger)])
            expectStatus(wrongContact, .unprocessableEntity)
            #expect(wrongContact.json["errors"][0]["field"] == "helpDeskContactId")
        }
    }

    @Test func theChecklistFollowsTheData() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "HQ")
            let path = "/api/v1/sites/\(site)/checklist"
            func missing() async throws -> [String] {
                let checklist = try await t.get(path).json
                let open = checklist["items"].array.filter { $0["done"] == false }.compactMap { $0["key"].string }
                #expect((checklist["ready"] == true) == open.isEmpty)
                return open
            }
            #expect(
                try await missing() == [
                    "mainPhone", "clientEmailDomain", "greetingCompanyName", "notificationRule", "helpDeskContact", "clientProfiles", "managedDevices",
                    "securityRequests", "networkInformation",
                ])

            expectStatus(
                try await t.patch(
                    "/api/v1/sites/\(site)", ["mainPhone": "+44 20 7946 0958", "clientEmailDomain": "contoso.example", "greetingCompanyName": "Contoso"]),
                .ok)
            #expect(
                try await missing() == ["notificationRule", "helpDeskContact", "clientProfiles", "managedDevices", "securityRequests", "networkInformation"])

            let ann = try await t.contact(
                contoso, "Ann", email: "ann@contoso.example",
                extra: ["siteId": .string(site), "phones": [["kind": "office", "number": "2079460958", "countryCode": "GB"]]])
            expectStatus(try await t.put("/api/v1/sites/\(site)/notification-rule", ["escalation": [["contactId": .string(ann)]]]), .ok)
            expectStatus(try await t.patch("/api/v1/sites/\(site)", ["helpDeskContactId": .string(ann)]), .ok)
            #expect(try await missing() == ["managedDevices", "securityRequests", "networkInformation"])
            // Security-related requests: every category the site decides is decided (Tier 4 is the MSP's).
            var categories: [String: JSON] = [:]
            for category in ["newUserAccount", "newMailAccount", "passwordReset", "filePermissionChange", "softwareInstallation", "agentInstallation"] {
                categories[category] = category == "passwordReset" ? ["approvers": [["kind": "contact", "id": .string(ann)]]] : ["noApprovalNeeded": true]
            }
            expectStatus(try await t.put("/api/v1/sites/\(site)/security-requests", ["categories": .object(categories)]), .ok)
            #expect(try await missing() == ["managedDevices", "networkInformation"])
            // Network information: the email section and one other part.
            expectStatus(try await t.put("/api/v1/sites/\(site)/network", ["email": ["provider": "Microsoft 365"]]), .ok)
            #expect(try await missing() == ["managedDevices", "networkInformation"])
            expectStatus(
                try await t.put(
                    "/api/v1/sites/\(site)/network", ["email": ["provider": "Microsoft 365"], "activeDirectory": ["serverName": "DC01"]]), .ok)
            #expect(try await missing() == ["managedDevices"])

            let device = try await t.post("/api/v1/devices", ["siteId": .string(site), "name": "FS01", "type": "server"])
            expectStatus(device, .created)
            #expect(try await missing() == ["managedDevices"], "no agent yet")
            let notReady = try await t.page("/sites/\(site)", session: try await t.pageSession("admin", TestApp.adminPassword))
            #expect(notReady.text.contains("Not ready") && notReady.text.contains("data-key=\"managedDevices\""))
            expectStatus(try await t.patch("/api/v1/devices/\(device.id)", ["agentInstalled": true]), .ok)
            #expect(try await missing() == [])
            let admin = try await t.pageSession("admin", TestApp.adminPassword)
            let page = try await t.page("/sites/\(site)", session: admin)
            #expect(page.text.contains("Ready to go live") && page.text.contains("Thank you for calling Contoso"))
            #expect(try await t.get("/api/v1/devices?siteId=\(site)").json["items"].array.count == 1)
            expectStatus(try await t.post("/api/v1/devices", ["siteId": .string(site), "name": "X", "type": "toaster"]), .unprocessableEntity)
            expectStatus(try await t.get("/api/v1/sites/\(UUID())/checklist"), .notFound)
        }
    }
}
