import Foundation
import Testing
import VaporTesting

@testable import App

/// What HTTP clients expect of the JSON API beyond its own rules: 400 for a body that is not JSON,
/// 405 with `Allow` for a known path asked with another method, 415 for a body of another type, and
/// dates that exist.
@Suite struct HTTPDetailsTests {
    @Test func malformedJSONIsABadRequestAndInvalidJSONStaysUnprocessable() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let before = try await t.rowCounts()
            for body in ["{\"name\": ", "{name: 'Northwind'}", "not json at all", "{\"name\": \"A\"}}"] {
                let reply = try await t.send(.POST, "/api/v1/organizations", raw: body)
                expectProblem(reply, .badRequest, field: "body", contains: "not valid JSON")
                #expect(reply.json["type"].string?.hasSuffix("/malformed-json") == true, "\(reply)")
            }
            expectProblem(try await t.send(.PATCH, "/api/v1/organizations/\(organizationId)", raw: "{"), .badRequest, field: "body")
            // Well-formed JSON that does not fit the input is still 422, naming the field.
            expectProblem(try await t.post("/api/v1/organizations", ["name": 42]), .unprocessableEntity, field: "name")
            expectProblem(try await t.post("/api/v1/organizations", [:]), .unprocessableEntity, field: "name")
            #expect(try await t.rowCounts() == before, "a refused request wrote nothing")
        }
    }

    @Test func aKnownPathWithAnotherMethodAnswers405WithAllow() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let ticketId = try await t.ticket(organizationId).id
            let cases: [(HTTPMethod, String, String)] = [
                (.PUT, "/api/v1/organizations", "GET, POST"),
                (.DELETE, "/api/v1/tickets", "GET, POST"),
                (.PUT, "/api/v1/tickets/\(ticketId)", "GET, PATCH, DELETE"),
                (.POST, "/api/v1/organizations/\(organizationId)", "GET, PATCH, DELETE"),
                (.DELETE, "/api/v1/me", "GET"),
                (.GET, "/api/v1/auth/token", "POST"),
                // The audit log's refusing PATCH and DELETE are not offered.
                (.PUT, "/api/v1/audit-events/\(UUID())", "GET"),
            ]
            for (method, path, allow) in cases {
                let reply = try await t.send(method, path, json: method == .GET || method == .DELETE ? nil : ["name": "x"])
                expectProblem(reply, .methodNotAllowed)
                #expect(reply.headers.first(name: .allow) == allow, "\(method) \(path): Allow \(reply.headers.first(name: .allow) ?? "none")")
            }
            // Without a token too: the method is wrong whoever asks.
            let anonymous = try await t.send(.PUT, "/api/v1/organizations", as: "")
            expectProblem(anonymous, .methodNotAllowed)
            // Unknown paths stay 404, whatever the method.
            for (method, path) in [(HTTPMethod.GET, "/api/v1/nothing-here"), (.PUT, "/api/v1/nothing-here"), (.DELETE, "/api/v1/tickets/\(ticketId)/nothing")] {
                let reply = try await t.send(method, path)
                expectProblem(reply, .notFound)
                #expect(reply.headers.first(name: .allow) == nil)
            }
            // Routed requests are untouched.
            expectStatus(try await t.get("/api/v1/tickets/\(ticketId)"), .ok)
        }
    }

    @Test func aJSONEndpointRefusesOtherContentTypes() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let before = try await t.rowCounts()
            let bodies: [(String, String)] = [
                ("text/plain", "name=Evil"),
                ("application/x-www-form-urlencoded", "name=Evil"),
                ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nEvil\r\n--x--\r\n"),
                ("application/xml", "<organization><name>Evil</name></organization>"),
                ("text/csv", "name\nEvil\n"),
            ]
            for (type, body) in bodies {
                let reply = try await t.send(.POST, "/api/v1/organizations", raw: body, headers: ["Content-Type": type])
                expectProblem(reply, .unsupportedMediaType, contains: "application/json")
                let patch = try await t.send(.PATCH, "/api/v1/organizations/\(organizationId)", raw: body, headers: ["Content-Type": type])
                expectProblem(patch, .unsupportedMediaType, contains: "application/json")
                let put = try await t.send(.PUT, "/api/v1/me/password", raw: body, headers: ["Content-Type": type])
                expectProblem(put, .unsupportedMediaType, contains: "application/json")
            }
            #expect(try await t.rowCounts() == before, "a refused request wrote nothing")
            // JSON with parameters is JSON.
            let created = try await t.send(
                .POST, "/api/v1/organizations", raw: #"{"name": "Fabrikam"}"#, headers: ["Content-Type": "application/json; charset=utf-8"])
            expectStatus(created, .created)
            // The profile import takes its CSV (the upload route says so); other bodies still reach the API's own checks.
            let siteId = try await t.site(organizationId, "HQ")
            let csv = try await t.importProfiles(siteId, csv: "First Name,Last Name,Office Phone,Office Phone Country\nAda,Lovelace,5551234,US\n", dryRun: true)
            expectStatus(csv, .ok)
        }
    }

    @Test func impossibleDatesAreRefusedNotRolledOver() async throws {
        try await withApp { t in
            let organizationId = try await t.organization("Contoso")
            let before = try await t.rowCounts()
            for (dueAt, words) in [
                ("2026-02-30T00:00:00Z", "not a real date"), ("2026-13-01T00:00:00Z", "no month 13"), ("2027-02-29T08:00:00Z", "28 days"),
                ("2026-04-31T10:00:00+02:00", "30 days"), ("2026-01-01T24:00:00Z", "not a real time"), ("2026-01-01T12:60:00Z", "not a real time"),
                ("2026-02-30", "such as"), ("tomorrow", "such as"), ("2026-1-5T00:00:00Z", "such as"),
            ] {
                let reply = try await t.post("/api/v1/tickets", ["organizationId": .string(organizationId), "title": "Due", "dueAt": .string(dueAt)])
                expectProblem(reply, .unprocessableEntity, field: "dueAt", contains: words)
            }
            #expect(try await t.rowCounts() == before, "a refused request wrote nothing")

            // Real dates are read as before, offsets and fractions included.
            let leap = try await t.ticket(organizationId, extra: ["dueAt": "2028-02-29T12:00:00Z"])
            #expect(leap["dueAt"] == "2028-02-29T12:00:00Z")
            let offset = try await t.ticket(organizationId, extra: ["dueAt": "2026-03-01T01:30:00.250+02:00"])
            #expect(offset["dueAt"] == "2026-02-28T23:30:00Z")
            // A PATCH is checked the same way and changes nothing.
            let patch = try await t.patch("/api/v1/tickets/\(leap.id)", ["dueAt": "2026-02-29T00:00:00Z"])
            expectProblem(patch, .unprocessableEntity, field: "dueAt", contains: "28 days")
            #expect(try await t.get("/api/v1/tickets/\(leap.id)").json["dueAt"] == "2028-02-29T12:00:00Z")
            // Holidays are calendar days.
            let location = try await t.post(
                "/api/v1/internal-locations", ["name": "NOC", "timeZone": "Europe/Berlin", "holidays": ["2026-12-25", "2026-02-30"]])
            expectProblem(location, .unprocessableEntity, field: "holidays[1]")
        }
    }

    @Test func theStrictReaderAgreesWithTheWriter() {
        for text in ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2026-11-23T18:10:00Z", "9999-12-31T23:59:59Z"] {
            guard case .success(let date) = ISO8601.date(from: text) else {
                Issue.record("\(text) was refused")
                continue
            }
            #expect(ISO8601.string(from: date) == text)
        }
        #expect(ISO8601.date(from: "2026-11-23t18:10:00z") == ISO8601.date(from: "2026-11-23T18:10:00Z"))
        #expect(ISO8601.date(from: "2026-11-23T18:10:00-05:00") == ISO8601.date(from: "2026-11-23T23:10:00Z"))
        for text in [
            "2100-02-29T00:00:00Z", "2026-00-10T00:00:00Z", "2026-06-00T00:00:00Z", "2026-06-10T00:00:00", "2026-06-10T00:00:00Z ",
            "2026-06-10T00:00:00+2:00", "2026-06-10T00:00:00.Z", "2026-06-10 00:00:00Z", "",
        ] {
            if case .success = ISO8601.date(from: text) { Issue.record("\(text.debugDescription) was accepted") }
        }
        #expect(ISO8601.isCalendarDate("2024-02-29") && !ISO8601.isCalendarDate("2026-02-29") && !ISO8601.isCalendarDate("2026-02-28T00:00:00Z"))
    }
}
