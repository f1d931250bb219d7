import Foundation
import Testing
import VaporTesting

@testable import App

/// One test per kind of bad input (SPEC §12): each answers problem+json naming the field and writes nothing.
@Suite struct ValidationTests {
    /// Sets up an organization, then checks that the refused requests of `refuse` leave every table as it
    /// was. A test that needs more fixtures calls `baseline()` once they exist.
    func withRefusals(_ refuse: @escaping (Refusals) async throws -> Void) async throws {
        try await withApp { t in
            let refusals = Refusals(t: t, organizationId: try await t.organization("Contoso"))
            try await refusals.baseline()
            try await refuse(refusals)
            #expect(try await t.rowCounts() == refusals.counts, "a refused request wrote nothing")
        }
    }

    @Test func missingRequiredField() async throws {
        try await withRefusals { r in
            let (t, organizationId) = (r.t, r.organizationId)
            expectProblem(try await t.post("/api/v1/organizations", [:]), .unprocessableEntity, field: "name", contains: "is required")
            expectProblem(try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId)]), .unprocessableEntity, field: "title")
            expectProblem(try await t.post("/api/v1/tickets", ["title": "No organization"]), .unprocessableEntity, field: "organizationId")
            expectProblem(try await t.post("/api/v1/sites", ["organizationId": .string(organizationId), "name": "HQ"]), .unprocessableEntity, field: "country")
            expectProblem(try await t.post("/api/v1/auth/token", ["username": "admin"], as: ""), .unprocessableEntity, field: "password")
            // Every missing field is named at once.
            let both = try await t.post("/api/v1/contacts", ["organizationId": .string(organizationId)])
            expectProblem(both, .unprocessableEntity, field: "firstName")
            expectProblem(both, .unprocessableEntity, field: "lastName")
        }
    }

    @Test func wrongJSONType() async throws {
        try await withRefusals { r in
            let (t, organizationId) = (r.t, r.organizationId)
            expectProblem(try await t.post("/api/v1/organizations", ["name": 42]), .unprocessableEntity, field: "name", contains: "must be a string")
            expectProblem(
                try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId), "title": "x", "coManagedVisible": "yes"]),
                .unprocessableEntity, field: "coManagedVisible", contains: "true or false")
            expectProblem(
                try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId), "title": "x", "assigneeIds": "admin"]),
                .unprocessableEntity, field: "assigneeIds", contains: "array")
            expectProblem(
                try await t.post("/api/v1/roles", ["name": "Engineer", "hourlyRate": "a lot"]), .unprocessableEntity, field: "hourlyRate", contains: "number")
            expectProblem(try await t.post("/api/v1/organizations", ["name": nil]), .unprocessableEntity, field: "name")
            expectProblem(try await t.post("/api/v1/organizations", ["Northwind"]), .unprocessableEntity)
        }
    }

    @Test func unknownEnumValue() async throws {
        try await withRefusals { r in
            let (t, organizationId) = (r.t, r.organizationId)
            let reply = try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId), "title": "x", "priority": "urgent"])
            expectProblem(reply, .unprocessableEntity, field: "priority", contains: "'urgent' is not one of low, medium, high, critical")
            expectProblem(
                try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId), "title": "x", "source": "fax"]),
                .unprocessableEntity, field: "source", contains: "portal, email, phone, web, api, monitoring")
            let ticketId = try await TicketFixture.quiet(t, organizationId)
            try await r.baseline()
            expectProblem(
                try await t.patch("/api/v1/tickets/\(ticketId)", ["status": "done"]), .unprocessableEntity, field: "status",
                contains: "new, inProgress, waitingCustomer, waitingApproval, escalated, resolved, closed")
            expectProblem(
                try await t.post("/api/v1/tickets/\(ticketId)/notes", ["body": "x", "publishTo": "everyone"]), .unprocessableEntity,
                field: "publishTo", contains: "internal, internalAndCoManaged, all")
            expectProblem(
                try await t.post("/api/v1/teams", ["name": "Net", "members": [["principalId": .string(t.adminId), "access": "boss"]]]),
                .unprocessableEntity, field: "members[0].access", contains: "full, own, readOnly")
        }
    }

    @Test func malformedJSONBody() async throws {
        try await withRefusals { r in
            let (t, organizationId) = (r.t, r.organizationId)
            for body in ["{\"name\": ", "{name: 'Northwind'}", "not json at all", "{\"name\": \"A\"}}"] {
                let reply = try await t.send(.POST, "/api/v1/organizations", raw: body)
                expectProblem(reply, .badRequest, field: "body", contains: "not valid JSON")
            }
            let ticket = try await t.send(.POST, "/api/v1/tickets", raw: "{\"organizationId\": \"\(organizationId)\", \"title\": \"x\"")
            expectProblem(ticket, .badRequest, field: "body")
        }
    }

    @Test func oversizedBody() async throws {
        try await withRefusals { r in
            let (t, organizationId) = (r.t, r.organizationId)
            // A real socket: the 1 MB limit applies while the body streams in.
            let description = String(repeating: "a", count: 1_100_000)
            let reply = try await t.send(
                .POST, "/api/v1/tickets", json: ["organizationId": .string(organizationId), "title": "Big", "description": .string(description)], live: true)
            expectProblem(reply, .payloadTooLarge)
            let organization = try await t.send(.POST, "/api/v1/organizations", json: ["name": .string(String(repeating: "n", count: 2_000_000))], live: true)
            expectProblem(organization, .payloadTooLarge)
        }
    }

    @Test func invalidIdReference() async throws {
        try await withRefusals { r in
            let (t, organizationId) = (r.t, r.organizationId)
            let unknown = UUID().uuidString
            func ticket(_ extra: JSON) async throws -> Reply {
                try await t.post("/api/v1/tickets", (["organizationId": .string(organizationId), "title": "x"] as JSON).merging(extra))
            }
            expectProblem(
                try await ticket(["organizationId": .string(unknown)]), .unprocessableEntity, field: "organizationId", contains: "no organization with this id")
            expectProblem(try await ticket(["queueId": .string(unknown)]), .unprocessableEntity, field: "queueId", contains: "no queue with this id")
            expectProblem(try await ticket(["teamId": .string(unknown)]), .unprocessableEntity, field: "teamId")
            expectProblem(try await ticket(["siteId": .string(unknown)]), .unprocessableEntity, field: "siteId")
            expectProblem(try await ticket(["contactId": .string(unknown)]), .unprocessableEntity, field: "contactId")
            expectProblem(try await ticket(["assigneeIds": [.string(unknown)]]), .unprocessableEntity, field: "assigneeIds")
            expectProblem(try await ticket(["queueId": "queue-1"]), .unprocessableEntity, field: "queueId", contains: "not a valid id")
            // A site of another organization is no site of this one.
            let other = try await t.organization("Fabrikam")
            let otherSite = try await t.site(other, "London")
            try await r.baseline()
            expectProblem(try await ticket(["siteId": .string(otherSite)]), .unprocessableEntity, field: "siteId", contains: "in the ticket's organization")
            expectProblem(
                try await t.post("/api/v1/sites", ["organizationId": .string(unknown), "name": "HQ", "country": "US"]), .unprocessableEntity,
                field: "organizationId")
            expectProblem(
                try await t.post(
                    "/api/v1/resources",
                    [
                        "username": "x", "password": "long-enough-pw", "firstName": "X", "lastName": "Y",
                        "securityLevelId": .string(unknown),
                    ]), .unprocessableEntity, field: "securityLevelId")
            // An id in the path that names nothing is a 404.
            expectProblem(try await t.get("/api/v1/tickets/\(unknown)"), .notFound)
            expectProblem(try await t.get("/api/v1/tickets/not-an-id"), .notFound)
            expectProblem(try await t.patch("/api/v1/organizations/\(unknown)", ["name": "x"]), .notFound)
        }
    }

    @Test func overLongText() async throws {
        try await withRefusals { r in
            let (t, organizationId) = (r.t, r.organizationId)
            let long = String(repeating: "x", count: 201)
            expectProblem(
                try await t.post("/api/v1/organizations", ["name": .string(long)]), .unprocessableEntity, field: "name", contains: "at most 200 characters")
            expectProblem(
                try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId), "title": .string(long)]), .unprocessableEntity, field: "title")
            expectProblem(
                try await t.post("/api/v1/sites", ["organizationId": .string(organizationId), "name": "HQ", "country": "USA"]), .unprocessableEntity,
                field: "country")
            expectProblem(
                try await t.post(
                    "/api/v1/resources",
                    [
                        "username": .string(String(repeating: "u", count: 33)), "password": "long-enough-pw",
                        "firstName": "X", "lastName": "Y", "securityLevelId": .string(try await t.securityLevelId(.technician)),
                    ]),
                .unprocessableEntity, field: "username", contains: "at most 32")
            let ticketId = try await TicketFixture.quiet(t, organizationId)
            try await r.baseline()
            expectProblem(try await t.patch("/api/v1/tickets/\(ticketId)", ["title": .string(long)]), .unprocessableEntity, field: "title")
            expectProblem(
                try await t.post("/api/v1/tickets/\(ticketId)/time-entries", ["minutes": 30, "summary": .string(String(repeating: "s", count: 2001))]),
                .unprocessableEntity, field: "summary")
            #expect(try await t.get("/api/v1/tickets/\(ticketId)").json["version"] == 1, "the refused PATCH left the ticket alone")
        }
    }

    @Test func otherBadValues() async throws {
        try await withRefusals { r in
            let (t, organizationId) = (r.t, r.organizationId)
            expectProblem(try await t.post("/api/v1/organizations", ["name": "   "]), .unprocessableEntity, field: "name", contains: "must not be empty")
            expectProblem(
                try await t.post("/api/v1/organizations", ["name": "Bad\u{0007}Name"]), .unprocessableEntity, field: "name", contains: "control characters")
            expectProblem(
                try await t.post("/api/v1/contacts", ["organizationId": .string(organizationId), "firstName": "A", "lastName": "B", "email": "not-an-email"]),
                .unprocessableEntity, field: "email")
            expectProblem(
                try await t.post(
                    "/api/v1/contacts",
                    [
                        "organizationId": .string(organizationId), "firstName": "A", "lastName": "B",
                        "phones": [["number": "+1 206 555", "countryCode": "US"]],
                    ]),
                .unprocessableEntity, field: "phones[0].number", contains: "digits only")
            expectProblem(try await t.post("/api/v1/internal-locations", ["name": "NOC", "timeZone": "Mars/Olympus"]), .unprocessableEntity, field: "timeZone")
            expectProblem(try await t.post("/api/v1/roles", ["name": "Engineer", "hourlyRate": -5]), .unprocessableEntity, field: "hourlyRate")
            expectProblem(
                try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId), "title": "x", "status": "closed"]),
                .unprocessableEntity, field: "status", contains: "starts as new")
        }
    }
}

enum TicketFixture {
    /// A ticket id, created before a test's "writes nothing" snapshot is taken.
    static func quiet(_ t: TestApp, _ organizationId: String) async throws -> String {
        try await t.ticket(organizationId, "Fixture").id
    }
}

final class Refusals {
    let t: TestApp
    let organizationId: String
    private(set) var counts: [String: Int] = [:]

    init(t: TestApp, organizationId: String) {
        self.t = t
        self.organizationId = organizationId
    }

    /// Takes the row counts the refusals must leave unchanged.
    func baseline() async throws {
        counts = try await t.rowCounts()
    }
}
