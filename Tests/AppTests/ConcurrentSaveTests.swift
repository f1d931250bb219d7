import Foundation
import Testing
import VaporTesting

@testable import App

/// Saves that race each other, as parallel requests to several instances would (issue 22): of edits naming one
/// version, exactly one lands and the others answer 409 with nothing written; first saves of a site's settings
/// at once all land, each after the one before. SQLite and PostgreSQL.
@Suite struct ConcurrentSaveTests {
    @Test func parallelEditsOfOneVersionLetExactlyOneThrough() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let expense = try await t.create(
                "/api/v1/expenses", ["date": "2026-12-01", "category": "meals", "description": "Lunch", "amount": 12.5, "organizationId": .string(contoso)])
            let reference = try await t.create("/api/v1/references", ["title": "Escalation", "body": "Call the on-duty engineer."])
            let contracts = "/api/v1/organizations/\(contoso)/block-hour-contracts"
            let contract = try await t.create(contracts, ["name": "Block", "hoursBought": 10, "startsOn": "2026-01-01"])
            for (path, field) in [
                ("/api/v1/expenses/\(expense.id)", "description"), ("/api/v1/references/\(reference.id)", "title"), ("\(contracts)/\(contract.id)", "name"),
            ] {
                let replies = try await AttackSuiteCredentialTests.parallel(8) { i in try await t.patch(path, [field: .string("Edit \(i)"), "version": 1]) }
                let landed = replies.filter { $0.status == .ok }
                #expect(landed.count == 1, "\(path): \(replies.map(\.status.code))")
                for refused in replies where refused.status != .ok { expectProblem(refused, .conflict, contains: "reload it") }
                let now = try await t.get(path).json
                #expect(now["version"] == 2 && now[field] == landed.first?.json[field], "\(path): \(now)")
            }
        }
    }

    @Test func parallelFirstSavesOfASitesSettingsAllLand() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let site = try await t.site(contoso, "Head office")
            let path = "/api/v1/sites/\(site)/security-requests"
            let replies = try await AttackSuiteCredentialTests.parallel(8) { i in
                try await t.put(path, ["categories": ["passwordReset": ["noApprovalNeeded": .bool(i % 2 == 0), "authenticateCaller": true]]])
            }
            #expect(replies.allSatisfy { $0.status == .ok }, "\(replies.map(\.description))")
            #expect(try await t.get(path).json["categories"]["passwordReset"]["authenticateCaller"] == true)
        }
    }
}
