import Foundation
import Testing

@testable import App

/// A site's security-related request settings and unlicensed software approvals through the API
/// (SPEC §8): checked whole, approvers from the site's organization or the MSP, read by whoever sees
/// the site, changed by whoever may change it, audited, hidden sites 404.
@Suite(.serialized) struct SiteSecurityTests {
    @Test func settingsAreValidatedStoredAndAudited() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let site = try await t.site(contoso, "HQ")
            let ann = try await t.contact(contoso, "Ann")
            let helpDesk = try await t.contact(contoso, "IT Team")
            let stranger = try await t.contact(fabrikam, "Fred")
            let (approver, _) = try await t.resource("marta", .administrator)
            let path = "/api/v1/sites/\(site)/security-requests"

            // Nothing configured: every category needs approval and nobody is named, so the MSP decides.
            let empty = try await t.get(path)
            expectStatus(empty, .ok)
            #expect(empty.json["categories"]["passwordReset"]["noApprovalNeeded"] == false)
            #expect(empty.json["summary"].array.allSatisfy { $0["approval"] == "msp" })

            let body: JSON = [
                "categories": [
                    "passwordReset": ["noApprovalNeeded": true, "authenticateCaller": true],
                    "newUserAccount": [
                        "approvers": [["kind": "contact", "id": .string(ann)], ["kind": "groupContact", "id": .string(helpDesk)]],
                        "authenticateApprover": true,
                        "templates": ["usernameFormat": "{first}.{last}", "emailFormat": "{f}{last}@contoso.example", "defaultSecurityGroups": ["Staff"]],
                    ],
                    "tier4": ["approvers": [["kind": "resource", "id": .string(approver)]]],
                ]
            ]
            let saved = try await t.put(path, body)
            expectStatus(saved, .ok)
            #expect(saved.json["categories"]["newUserAccount"]["approvers"].array.map { $0["name"].string } == ["Ann Contact", "IT Team Contact"])
            #expect(saved.json["categories"]["tier4"]["approvers"][0]["name"] == "Marta Tester")
            let read = try await t.get(path)
            #expect(read.json["categories"]["passwordReset"]["authenticateCaller"] == true)
            #expect(read.json["categories"]["newUserAccount"]["templates"]["usernameFormat"] == "{first}.{last}")
            #expect(read.json["summary"].array.first { $0["category"] == "newUserAccount" }?["approval"] == "client")
            #expect(read.json["summary"].array.first { $0["category"] == "passwordReset" }?["approval"] == "none")

            // Each refusal names its field and writes nothing.
            func refused(_ categories: JSON, field: String) async throws {
                let answer = try await t.put(path, ["categories": categories])
                expectStatus(answer, .unprocessableEntity)
                #expect(answer.json["errors"].array.contains { $0["field"].string == field }, "\(answer.json)")
            }
            try await refused(["newUserAccount": ["approvers": [["kind": "contact", "id": .string(stranger)]]]], field: "newUserAccount.approvers[0]")
            try await refused(["tier4": ["noApprovalNeeded": true]], field: "tier4.noApprovalNeeded")
            try await refused(
                [
                    "passwordReset": [
                        "approvers": [
                            ["kind": "contact", "id": .string(ann)], ["kind": "contact", "id": .string(helpDesk)],
                            ["kind": "resource", "id": .string(approver)],
                        ]
                    ]
                ],
                field: "passwordReset.approvers")
            try await refused(["newMailAccount": ["templates": ["emailFormat": "{first}.{nickname}@x.example"]]], field: "newMailAccount.templates.emailFormat")
            try await refused(["passwordReset": ["templates": ["usernameFormat": "{first}"]]], field: "passwordReset.templates")
            let unknown = try await t.put(path, ["categories": ["noSuchCategory": [:]]])
            expectStatus(unknown, .unprocessableEntity)
            #expect(unknown.json["detail"].string?.contains("noSuchCategory") == true, "\(unknown.json)")
            #expect(try await t.get(path).json["categories"]["newUserAccount"]["approvers"].array.count == 2, "a refused body wrote nothing")

            let audit = try await t.get("/api/v1/audit-events?limit=200").json["items"].array
            #expect(audit.filter { $0["action"] == "securityRequestsUpdated" }.count == 1)
        }
    }

    @Test func whoMayReadAndChange() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            let site = try await t.site(contoso, "HQ")
            let hidden = try await t.site(fabrikam, "Plant")
            let (_, tech) = try await t.resource("tech")
            let (_, restricted) = try await t.resource("rick", restrictions: [contoso])
            // A portal contact sees its site, never how its security requests are approved.
            let ann = try await t.contact(contoso, "Ann")
            let annToken = try await t.portalLogin(ann, email: "ann@contoso.example", organizationWide: true)
            expectStatus(try await t.get("/api/v1/sites/\(site)", as: annToken), .ok)
            for kind in ["security-requests", "software-approvals"] {
                expectProblem(try await t.get("/api/v1/sites/\(site)/\(kind)", as: annToken), .notFound)
                let body: JSON = kind == "security-requests" ? ["categories": [:]] : ["entries": []]
                // A technician sees the site but may not change it.
                expectStatus(try await t.get("/api/v1/sites/\(site)/\(kind)", as: tech), .ok)
                expectStatus(try await t.put("/api/v1/sites/\(site)/\(kind)", body, as: tech), .forbidden)
                // Another organization's site is not there for a restricted technician; an unknown one for nobody.
                expectStatus(try await t.get("/api/v1/sites/\(hidden)/\(kind)", as: restricted), .notFound)
                expectStatus(try await t.put("/api/v1/sites/\(hidden)/\(kind)", body, as: restricted), .notFound)
                expectStatus(try await t.get("/api/v1/sites/\(UUID())/\(kind)"), .notFound)
                expectStatus(try await t.put("/api/v1/sites/\(site)/\(kind)", body), .ok)
            }
        }
    }

    @Test func unlicensedSoftwareApprovals() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "HQ")
            let path = "/api/v1/sites/\(site)/software-approvals"
            #expect(try await t.get(path).json["entries"].array.isEmpty)
            let saved = try await t.put(
                path,
                [
                    "entries": [
                        ["name": "Notepad++", "approval": "install"], ["name": "Zoom", "approval": "callApprover"], ["name": "uTorrent", "approval": "never"],
                    ]
                ])
            expectStatus(saved, .ok)
            #expect(try await t.get(path).json["entries"].array.map { $0["approval"].string } == ["install", "callApprover", "never"])
            let twice = try await t.put(path, ["entries": [["name": "Zoom", "approval": "install"], ["name": " zoom ", "approval": "never"]]])
            expectStatus(twice, .unprocessableEntity)
            #expect(twice.json["errors"][0]["field"] == "entries[1].name")
            let maybe = try await t.put(path, ["entries": [["name": "Zoom", "approval": "maybe"]]])
            expectStatus(maybe, .unprocessableEntity)
            #expect("\(maybe.json)".contains("approval"), "\(maybe.json)")
            #expect(try await t.get(path).json["entries"].array.count == 3, "a refused body wrote nothing")
        }
    }
}
