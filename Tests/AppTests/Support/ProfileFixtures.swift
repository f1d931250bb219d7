import Foundation
import NIOCore
import Testing
import VaporTesting

@testable import App

/// Helpers for client profiles: a site with profiles, imports and exports through the API.
extension TestApp {
    /// A profile created through the API; the answer's JSON.
    @discardableResult
    func profile(
        _ siteId: String, _ firstName: String, _ lastName: String = "Profile", email: String? = nil, phone: String = "5550100",
        country: String = "US", extra: JSON = [:], as token: String? = nil
    ) async throws -> JSON {
        var body: JSON = [
            "siteId": .string(siteId), "firstName": .string(firstName), "lastName": .string(lastName),
            "phones": [["number": .string(phone), "countryCode": .string(country), "kind": "office"]],
        ]
        if let email { body = body.merging(["email": .string(email)]) }
        return try await create("/api/v1/client-profiles", body.merging(extra), as: token)
    }

    /// Uploads a file to a site's import; the answer.
    func importProfiles(
        _ siteId: String, _ data: Data, format: String = "csv", dryRun: Bool = false, as token: String? = nil, headers extra: HTTPHeaders = [:]
    ) async throws -> Reply {
        var headers = extra
        let bearer = token ?? adminToken
        if !bearer.isEmpty { headers.bearerAuthorization = BearerAuthorization(token: bearer) }
        headers.contentType =
            format == "csv"
            ? HTTPMediaType(type: "text", subType: "csv")
            : HTTPMediaType(type: "application", subType: "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        var reply: Reply?
        try await app.testing().test(
            .POST, "/api/v1/sites/\(siteId)/client-profiles/import\(dryRun ? "?dryRun=true" : "")",
            headers: headers, body: ByteBuffer(data: data)
        ) { response in
            reply = Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
        return reply!
    }

    func importProfiles(_ siteId: String, csv: String, dryRun: Bool = false, as token: String? = nil) async throws -> Reply {
        try await importProfiles(siteId, Data(csv.utf8), dryRun: dryRun, as: token)
    }

    /// Submits an import as a job (`Prefer: respond-async`); the answer.
    func submitImport(_ siteId: String, csv: String, dryRun: Bool = false, as token: String? = nil) async throws -> Reply {
        try await importProfiles(siteId, Data(csv.utf8), dryRun: dryRun, as: token, headers: ["Prefer": "respond-async"])
    }

    /// The import report, requiring a `200`.
    func importReport(_ siteId: String, csv: String, dryRun: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSON {
        let reply = try await importProfiles(siteId, csv: csv, dryRun: dryRun)
        guard reply.status == .ok else {
            Issue.record("import answered \(reply)", sourceLocation: sourceLocation)
            throw TestSetupError("import answered \(reply)")
        }
        return reply.json
    }

    func exportProfiles(_ siteId: String, format: String = "csv", as token: String? = nil) async throws -> Reply {
        try await get("/api/v1/sites/\(siteId)/client-profiles/export?format=\(format)", as: token)
    }
}

/// The counts of a report, in one comparable value.
struct ReportCounts: Equatable, CustomStringConvertible {
    var added = 0, edited = 0, deleted = 0, unchanged = 0, failed = 0

    init(added: Int = 0, edited: Int = 0, deleted: Int = 0, unchanged: Int = 0, failed: Int = 0) {
        self.added = added
        self.edited = edited
        self.deleted = deleted
        self.unchanged = unchanged
        self.failed = failed
    }

    init(_ report: JSON) {
        self.init(
            added: report["added"].int ?? -1, edited: report["edited"].int ?? -1, deleted: report["deleted"].int ?? -1,
            unchanged: report["unchanged"].int ?? -1, failed: report["failed"].int ?? -1)
    }

    var description: String { "added \(added), edited \(edited), deleted \(deleted), unchanged \(unchanged), failed \(failed)" }
}
