import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Expenses' access matrix through the API, on SQLite and PostgreSQL: principals (administrator, technician,
/// client-restricted technician, co-managing user, contact) × expenses (Tara's on a Northwind ticket, Tara's on
/// Contoso, Rick's on Northwind): read, list, change, delete, create, and the timesheet that shows them. Every
/// expected cell is written out by hand from the brief (timesheet rights; co-managing users cannot track expenses).
@Suite struct ExpenseMatrixTests {
    enum Who: String, CaseIterable, Sendable { case admin, tara, rick, nina, alice }

    struct Expected {
        /// GET of (Tara's Northwind, Tara's Contoso, Rick's Northwind).
        var read: [Int]
        /// PATCH of the same, with a valid body.
        var change: [Int]
        /// POST on Northwind.
        var create: Int
        /// GET of Tara's timesheet, and how many expenses it shows.
        var taraSheet: Int
        var taraSheetExpenses: Int
    }

    static let expected: [Who: Expected] = [
        // The administrator approves timesheets: reads everyone's expenses, changes none but its own.
        .admin: Expected(read: [200, 200, 200], change: [403, 403, 403], create: 201, taraSheet: 200, taraSheetExpenses: 2),
        // Tara's sheet is read after she added a third expense.
        .tara: Expected(read: [200, 200, 404], change: [200, 200, 404], create: 201, taraSheet: 200, taraSheetExpenses: 3),
        // Restricted to Northwind and not an approver: only its own.
        .rick: Expected(read: [404, 404, 200], change: [404, 404, 200], create: 201, taraSheet: 404, taraSheetExpenses: 0),
        // Co-managing users cannot track expenses and read none; contacts neither.
        .nina: Expected(read: [404, 404, 404], change: [404, 404, 404], create: 403, taraSheet: 404, taraSheetExpenses: 0),
        .alice: Expected(read: [404, 404, 404], change: [404, 404, 404], create: 403, taraSheet: 404, taraSheetExpenses: 0),
    ]

    @Test func expenseCellsAnswerAsTheRulesSay() async throws {
        try await withApp { t in
            try await t.setCoManagement(enabled: true)
            let northwind = try await t.coManagedOrganization("Northwind")
            let contoso = try await t.organization("Contoso")
            let queue = try await t.queue("Service desk")
            let role = try await t.create("/api/v1/roles", ["name": "Engineer", "hourlyRate": 100]).id
            let tara = try await t.resource("tara")
            let rick = try await t.resource("rick", restrictions: [northwind])
            let ninaUser = try await t.coManagingUser("nina", organizationId: northwind, queueIds: [queue], extra: ["roleIds": [.string(role)]]).id
            try await t.setUp(northwind, users: [ninaUser])
            let nina = try await t.loginCoManaging(ninaUser, "nina")
            let aliceContact = try await t.contact(northwind, "Alice")
            let alice = try await t.portalLogin(aliceContact, email: "alice@northwind.example", organizationWide: true)
            let northwindTicket = try await t.ticket(northwind, extra: ["coManagedVisible": true, "contactId": .string(aliceContact)]).id

            func body(_ date: String, _ place: JSON) -> JSON {
                JSON.object(["date": .string(date), "category": "meals", "description": "Lunch", "amount": 9.5]).merging(place)
            }
            let expenses = [
                try await t.create("/api/v1/expenses", body("2026-12-01", ["ticketId": .string(northwindTicket)]), as: tara.token).id,
                try await t.create("/api/v1/expenses", body("2026-12-02", ["organizationId": .string(contoso)]), as: tara.token).id,
                try await t.create("/api/v1/expenses", body("2026-12-02", ["organizationId": .string(northwind)]), as: rick.token).id,
            ]
            let tokens: [Who: String] = [.admin: t.adminToken, .tara: tara.token, .rick: rick.token, .nina: nina, .alice: alice]
            for who in Who.allCases {
                let token = tokens[who]!, want = Self.expected[who]!
                for (index, id) in expenses.enumerated() {
                    let read = try await t.get("/api/v1/expenses/\(id)", as: token)
                    #expect(read.status.code == UInt(want.read[index]), "\(who) reads \(index): \(read)")
                    let change = try await t.patch("/api/v1/expenses/\(id)", ["description": .string("Lunch (\(who))")], as: token)
                    #expect(change.status.code == UInt(want.change[index]), "\(who) changes \(index): \(change)")
                    if want.change[index] == 403 { #expect(change.json["detail"].string?.contains("only the person") == true) }
                    // Deleting answers as changing does; only the refusals are tried here (a 204 would delete the cell's expense).
                    if want.change[index] != 200 {
                        let delete = try await t.delete("/api/v1/expenses/\(id)", as: token)
                        #expect(delete.status.code == UInt(want.change[index]), "\(who) deletes \(index): \(delete)")
                    }
                }
                let list = try await t.get("/api/v1/expenses", as: token)
                #expect(list.status == .ok, "\(who): \(list)")
                let listed = Set(list.json["items"].array.compactMap { $0["id"].string })
                #expect(listed == Set(expenses.enumerated().filter { want.read[$0.offset] == 200 }.map(\.element)), "\(who) lists \(listed)")
                let created = try await t.post("/api/v1/expenses", body("2026-12-03", ["organizationId": .string(northwind)]), as: token)
                #expect(created.status.code == UInt(want.create), "\(who) creates: \(created)")
                if who == .nina { #expect(created.json["detail"] == "co-managing users cannot track expenses", "\(created)") }
                let sheet = try await t.get("/api/v1/timesheets?personId=\(tara.id)&week=2026-W49", as: token)
                #expect(sheet.status.code == UInt(want.taraSheet), "\(who) Tara's sheet: \(sheet)")
                if sheet.status == .ok { #expect(sheet.json["expenses"].array.count == want.taraSheetExpenses, "\(who) Tara's expenses: \(sheet)") }
            }
            // A client-restricted resource cannot put an expense on a ticket or organization it cannot see.
            let contosoTicket = try await t.ticket(contoso).id
            expectProblem(
                try await t.post("/api/v1/expenses", body("2026-12-03", ["ticketId": .string(contosoTicket)]), as: rick.token), .unprocessableEntity,
                field: "ticketId", contains: "no ticket you can see")
            expectProblem(
                try await t.post("/api/v1/expenses", body("2026-12-03", ["organizationId": .string(contoso)]), as: rick.token), .unprocessableEntity,
                field: "organizationId", contains: "no organization you can see")
            // Nor move its own expense there.
            expectProblem(
                try await t.patch("/api/v1/expenses/\(expenses[2])", ["ticketId": .string(contosoTicket)], as: rick.token), .unprocessableEntity,
                field: "ticketId")
        }
    }
}
