import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Issue 21's access matrix, on SQLite and PostgreSQL: principals (administrator, technician, client-restricted
/// technician, co-managing user, contact) × (see a time entry's amount, see roles' rates, read block-hour
/// contracts, view and approve an MSP timesheet, view a co-managing user's timesheet, submit). Every expected
/// cell is written out by hand below from the brief and Autotask's rules, never asked of the policy.
@Suite struct BillingMatrixTests {
    enum Who: String, CaseIterable, Sendable { case admin, tara, rick, nina, alice }

    /// What each cell must answer. `nil`: 404 (hidden). For amounts: true shown, false left out.
    struct Expected {
        var amountNorthwind: Bool?
        var amountContoso: Bool?
        var rates: Bool?
        var contractsNorthwind: Int
        var contractsContoso: Int
        var viewTaraSheet: Int
        var approveTaraSheet: Int
        var viewNinaSheet: Int
    }

    static let expected: [Who: Expected] = [
        .admin: Expected(
            amountNorthwind: true, amountContoso: true, rates: true, contractsNorthwind: 200, contractsContoso: 200, viewTaraSheet: 200,
            approveTaraSheet: 200, viewNinaSheet: 200),
        // A technician reads reports, so billing; approving needs manageUsers; Nina's viewer.
        .tara: Expected(
            amountNorthwind: true, amountContoso: true, rates: true, contractsNorthwind: 200, contractsContoso: 200, viewTaraSheet: 200,
            approveTaraSheet: 403, viewNinaSheet: 200),
        // Restricted to Northwind: Contoso's ticket and contracts are hidden; not Tara's approver or Nina's viewer.
        .rick: Expected(
            amountNorthwind: true, amountContoso: nil, rates: true, contractsNorthwind: 200, contractsContoso: 404, viewTaraSheet: 404,
            approveTaraSheet: 404, viewNinaSheet: 404),
        // Co-managing users see the shared entry but never billing; their own timesheet only.
        .nina: Expected(
            amountNorthwind: false, amountContoso: nil, rates: false, contractsNorthwind: 403, contractsContoso: 404, viewTaraSheet: 404,
            approveTaraSheet: 404, viewNinaSheet: 200),
        // The contact sees the entry published to all on their organization's ticket, without its amount.
        .alice: Expected(
            amountNorthwind: false, amountContoso: nil, rates: nil, contractsNorthwind: 403, contractsContoso: 404, viewTaraSheet: 404,
            approveTaraSheet: 404, viewNinaSheet: 404),
    ]

    @Test func billingCellsAnswerAsTheRulesSay() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Service desk")
            let role = try await t.create("/api/v1/roles", ["name": "Engineer", "hourlyRate": 120.5, "blockHourMultiplier": 1.5]).id
            let tara = try await t.resource("tara")
            let rick = try await t.resource("rick", restrictions: [northwind])
            let ninaUser = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue], extra: ["roleIds": [.string(role)]]).id
            try await t.setUp(northwind, users: [ninaUser])
            let nina = try await t.loginCoManaging(ninaUser, "nina")
            let aliceContact = try await t.contact(northwind, "Alice")
            let alice = try await t.portalLogin(aliceContact, email: "alice@northwind.example", organizationWide: true)
            try await t.must(.ok, .PUT, "/api/v1/co-managing-users/\(ninaUser)/timesheet-viewers", ["resourceIds": [.string(tara.id)]])

            let northwindTicket = try await t.ticket(northwind, extra: ["coManagedVisible": true, "contactId": .string(aliceContact)]).id
            let contosoTicket = try await t.ticket(contoso).id
            let week = "2026-W49"
            let northwindEntry = try await t.create(
                "/api/v1/tickets/\(northwindTicket)/time-entries",
                ["roleId": .string(role), "startedAt": "2026-12-01T09:00:00Z", "endedAt": "2026-12-01T10:00:00Z", "summary": "Cabling", "publishTo": "all"],
                as: tara.token
            ).id
            let contosoEntry = try await t.create(
                "/api/v1/tickets/\(contosoTicket)/time-entries",
                ["roleId": .string(role), "startedAt": "2026-12-02T09:00:00Z", "minutes": 30, "summary": "Backups"], as: tara.token
            ).id
            try await t.create("/api/v1/organizations/\(northwind)/block-hour-contracts", ["name": "N", "hoursBought": 10, "startsOn": "2026-01-01"])
            try await t.create("/api/v1/organizations/\(contoso)/block-hour-contracts", ["name": "C", "hoursBought": 10, "startsOn": "2026-01-01"])
            try await t.must(.ok, .POST, "/api/v1/timesheets/submit", ["week": .string(week)], as: tara.token)

            let tokens: [Who: String] = [.admin: t.adminToken, .tara: tara.token, .rick: rick.token, .nina: nina, .alice: alice]
            for who in Who.allCases {
                let token = tokens[who]!, want = Self.expected[who]!
                // Amounts: present, left out, or the entry hidden (404).
                for (entry, ticket, expected) in [
                    (northwindEntry, northwindTicket, want.amountNorthwind), (contosoEntry, contosoTicket, want.amountContoso),
                ] {
                    let reply = try await t.get("/api/v1/tickets/\(ticket)/time-entries/\(entry)", as: token)
                    guard let shown = expected else {
                        #expect(reply.status == .notFound, "\(who) \(entry): \(reply)")
                        continue
                    }
                    #expect(reply.status == .ok, "\(who): \(reply)")
                    #expect((reply.json["amount"] != .null) == shown, "\(who) amount: \(reply)")
                    let list = try await t.get("/api/v1/tickets/\(ticket)/time-entries", as: token)
                    #expect(list.json["items"].array.allSatisfy { ($0["amount"] != .null) == shown }, "\(who) list: \(list)")
                }
                // Rates on roles.
                let roles = try await t.get("/api/v1/roles", as: token)
                if let rates = want.rates {
                    #expect(roles.status == .ok && roles.json["items"].array.count == 1, "\(who): \(roles)")
                    #expect((roles.json["items"][0]["hourlyRate"] != .null) == rates, "\(who) rates: \(roles)")
                    #expect((roles.json["items"][0]["blockHourMultiplier"] != .null) == rates, "\(who) multiplier: \(roles)")
                } else {
                    #expect(roles.json["items"].array.isEmpty, "\(who) roles: \(roles)")
                }
                // Block-hour contracts.
                let north = try await t.get("/api/v1/organizations/\(northwind)/block-hour-contracts", as: token)
                #expect(north.status.code == UInt(want.contractsNorthwind), "\(who) Northwind contracts: \(north)")
                let south = try await t.get("/api/v1/organizations/\(contoso)/block-hour-contracts", as: token)
                #expect(south.status.code == UInt(want.contractsContoso), "\(who) Contoso contracts: \(south)")
                // Timesheets.
                let taraSheet = try await t.get("/api/v1/timesheets?personId=\(tara.id)&week=\(week)", as: token)
                #expect(taraSheet.status.code == UInt(want.viewTaraSheet), "\(who) Tara's sheet: \(taraSheet)")
                if taraSheet.status == .ok {
                    #expect((taraSheet.json["amount"] != .null) == (want.amountNorthwind == true), "\(who) Tara's amount: \(taraSheet)")
                }
                let ninaSheet = try await t.get("/api/v1/timesheets?personId=\(ninaUser)&week=\(week)", as: token)
                #expect(ninaSheet.status.code == UInt(want.viewNinaSheet), "\(who) Nina's sheet: \(ninaSheet)")
                // Nobody submits a co-managing user's timesheet, Nina included.
                let submitNina = try await t.post("/api/v1/timesheets/submit", ["personId": .string(ninaUser), "week": .string(week)], as: token)
                #expect(submitNina.status.code == (want.viewNinaSheet == 200 ? 403 : 404), "\(who) submits Nina's: \(submitNina)")
            }
            // The reports' sums as each reader may see them: Northwind's hour of 120.5 × 1, and Contoso's half hour.
            let period = UTCDay.start(of: "2026-11-30")!..<UTCDay.start(of: "2026-12-07")!
            let people: [(Who, UUID, PrincipalKind)] = [
                (.tara, UUID(uuidString: tara.id)!, .resource), (.rick, UUID(uuidString: rick.id)!, .resource),
                (.nina, UUID(uuidString: ninaUser)!, .coManagingUser),
            ]
            // (Northwind minutes, amount shown; Contoso minutes, amount shown)
            let sums: [Who: (Int, Bool, Int, Bool)] = [.tara: (60, true, 30, true), .rick: (60, true, 0, false), .nina: (60, false, 0, false)]
            for (who, id, kind) in people {
                let principal = try #require(try await PrincipalLoader.load(id: id, kind: kind, on: t.db))
                let north = try await BillingSummary.shown(to: principal, organizationId: UUID(uuidString: northwind)!, period: period, on: t.db)
                let south = try await BillingSummary.shown(to: principal, organizationId: UUID(uuidString: contoso)!, period: period, on: t.db)
                let want = sums[who]!
                #expect(north.minutesByRole.values.reduce(0, +) == want.0 && (north.billableAmount != nil) == want.1, "\(who) Northwind: \(north)")
                #expect(south.minutesByRole.values.reduce(0, +) == want.2 && (south.billableAmount != nil) == want.3, "\(who) Contoso: \(south)")
                if want.1 { #expect(north.billableAmount == Money(cents: 12050) && north.blockHoursUsed == BillingDecimal(parsing: "1.5")) }
            }

            // Approving last: the first 200 changes the state; the refusals before it change nothing.
            for who in Who.allCases where who != .admin {
                let reply = try await t.post("/api/v1/timesheets/approve", ["personId": .string(tara.id), "week": .string(week)], as: tokens[who]!)
                #expect(reply.status.code == UInt(Self.expected[who]!.approveTaraSheet), "\(who) approves: \(reply)")
            }
            let approved = try await t.post("/api/v1/timesheets/approve", ["personId": .string(tara.id), "week": .string(week)])
            #expect(approved.status == .ok && approved.json["status"] == "approved", "\(approved)")
        }
    }
}
