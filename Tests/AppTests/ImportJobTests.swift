import Fluent
import Foundation
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Imports that outlive their request (issue 22): `Prefer: respond-async` queues a job, a background worker claims
/// it (a lease, taken over when it ends) and records the report the synchronous import answers.
@Suite("Import jobs", .serialized)
struct ImportJobTests {
    static let csv = """
        First Name,Last Name,Email,Office Phone,Office Phone Country
        Ann,Able,ann@client.example,5550100,US
        Ben,Baker,ben@client.example,5550101,US
        Cat,Cole,cat@client.example,555-0102,US

        """

    // MARK: Submitting and running

    @Test func aSubmittedImportAnswers202AndAWorkerRoundGivesTheSynchronousReport() async throws {
        try await withApp { t in
            let organization = try await t.organization("Acme")
            let direct = try await t.site(organization, "Direct"), queued = try await t.site(organization, "Queued")
            let expected = try await t.importReport(direct, csv: Self.csv)

            let reply = try await t.submitImport(queued, csv: Self.csv)
            expectStatus(reply, .accepted)
            let id = reply.json["id"].string ?? ""
            #expect(reply.headers.first(name: .location) == "/api/v1/import-jobs/\(id)")
            #expect(reply.headers.first(name: "Preference-Applied") == "respond-async")
            #expect(reply.json["state"].string == "queued" && reply.json["siteId"].string == queued && reply.json["dryRun"] == false)
            #expect(try await t.get("/api/v1/client-profiles?siteId=\(queued)").json.ids.isEmpty, "nothing is imported before a worker runs it")
            #expect(try await Self.upload(of: id, t) != nil, "the upload is stored")

            #expect(await BackgroundWorker.round(t.app) >= 1)

            let job = try await t.get("/api/v1/import-jobs/\(id)")
            expectStatus(job, .ok)
            #expect(job.json["state"].string == "succeeded" && job.json["attempts"].int == 1)
            #expect(job.json["report"] == expected, "the job's report is the synchronous import's")
            #expect(ReportCounts(job.json["report"]) == ReportCounts(added: 2, failed: 1))
            #expect(job.json["finishedAt"].string != nil && job.json["error"] == .null)
            #expect(try await t.get("/api/v1/client-profiles?siteId=\(queued)").json.ids.count == 2)
            #expect(try await Self.upload(of: id, t) == nil, "the upload is deleted once the job ends")
            #expect(try await t.auditEvents(entityId: queued).contains { $0["action"].string == "imported" })
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 0, "nothing is left to claim")
        }
    }

    @Test func aDryRunJobReportsAndWritesNothing() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            let before = try await t.rowCounts()
            let id = try await t.submitImport(site, csv: Self.csv, dryRun: true).json["id"].string ?? ""
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 1)
            let job = try await t.get("/api/v1/import-jobs/\(id)").json
            #expect(job["state"].string == "succeeded" && job["dryRun"] == true && job["report"]["dryRun"] == true)
            #expect(ReportCounts(job["report"]) == ReportCounts(added: 2, failed: 1))
            #expect(try await t.rowCounts() == before, "a dry run writes nothing (and its upload is gone)")
            #expect(try await Self.upload(of: id, t) == nil)
        }
    }

    /// A file the import refuses whole fails the job with the synchronous import's words.
    @Test func aRefusedFileFailsTheJobWithTheReason() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            let bad = "First Name,Email\nAnn,ann@client.example\n"
            let refused = try await t.importProfiles(site, csv: bad)
            expectProblem(refused, .unprocessableEntity, field: "file")
            let id = try await t.submitImport(site, csv: bad).json["id"].string ?? ""
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 1)
            let job = try await t.get("/api/v1/import-jobs/\(id)").json
            #expect(job["state"].string == "failed" && job["report"] == .null)
            #expect(job["error"].string == refused.json["detail"].string && job["error"].string?.hasPrefix("file: ") == true, "\(job)")
            #expect(try await Self.upload(of: id, t) == nil)
        }
    }

    // MARK: Refusals before anything is stored

    @Test func aHiddenSiteOrAMissingRightQueuesNothing() async throws {
        try await withApp { t in
            let mine = try await t.organization("Mine"), theirs = try await t.organization("Theirs")
            let mySite = try await t.site(mine, "Mine HQ"), theirSite = try await t.site(theirs, "Theirs HQ")
            let restricted = try await t.resource("rita", restrictions: [mine])
            let helpDesk = try await t.resource("hank", .helpDesk)
            let before = try await t.rowCounts()

            expectProblem(try await t.submitImport(theirSite, csv: Self.csv, as: restricted.token), .notFound)
            expectProblem(try await t.submitImport(mySite, csv: Self.csv, as: helpDesk.token), .forbidden)
            expectProblem(try await t.submitImport(UUID().uuidString, csv: Self.csv), .notFound)
            let json = try await t.send(
                .POST, "/api/v1/sites/\(mySite)/client-profiles/import", raw: "{}", headers: ["Prefer": "respond-async", "Content-Type": "application/json"])
            expectProblem(json, .unsupportedMediaType)
            expectProblem(
                try await t.send(
                    .POST, "/api/v1/sites/\(mySite)/client-profiles/import?format=csv&dryRun=maybe", raw: "x", headers: ["Prefer": "respond-async"]),
                .unprocessableEntity, field: "dryRun")

            #expect(try await t.count("import_jobs") == 0)
            #expect(try await t.rowCounts() == before, "no upload was kept")
            // The same person may submit to the site they see.
            expectStatus(try await t.submitImport(mySite, csv: Self.csv, as: restricted.token), .accepted)
            #expect(try await t.count("import_jobs") == 1)
        }
    }

    @Test func withoutThePreferenceTheImportStaysSynchronous() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            let reply = try await t.importProfiles(site, Data(Self.csv.utf8), headers: ["Prefer": "return=minimal, respond-asynchronously"])
            expectStatus(reply, .ok)
            #expect(ReportCounts(reply.json) == ReportCounts(added: 2, failed: 1))
            #expect(reply.headers.first(name: "Preference-Applied") == nil)
            #expect(try await t.count("import_jobs") == 0)
        }
    }

    @Test func respondAsyncIsReadAmongOtherPreferences() {
        func prefers(_ values: [String]) -> Bool { ImportJobs.prefersAsync(HTTPHeaders(values.map { ("Prefer", $0) })) }
        #expect(prefers(["respond-async"]))
        #expect(prefers(["wait=10, Respond-Async"]))
        #expect(prefers(["return=minimal", " respond-async ; foo=bar"]))
        #expect(!prefers([]))
        #expect(!prefers(["respond-asynchronously", "wait=respond-async"]))
    }

    // MARK: Who sees a job

    @Test func onlyTheSubmitterAndAdministratorsSeeAJob() async throws {
        try await withApp { t in
            let acme = try await t.organization("Acme"), other = try await t.organization("Other")
            let site = try await t.site(acme, "HQ")
            let tess = try await t.resource("tess"), theo = try await t.resource("theo")
            let restrictedAdmin = try await t.resource("rhea", .administrator, restrictions: [other])
            let id = try await t.submitImport(site, csv: Self.csv, as: tess.token).json["id"].string ?? ""
            let mine = try await t.submitImport(site, csv: Self.csv).json["id"].string ?? ""

            expectStatus(try await t.get("/api/v1/import-jobs/\(id)", as: tess.token), .ok)
            expectStatus(try await t.get("/api/v1/import-jobs/\(id)"), .ok)
            expectProblem(try await t.get("/api/v1/import-jobs/\(id)", as: theo.token), .notFound)
            expectProblem(try await t.get("/api/v1/import-jobs/\(id)", as: restrictedAdmin.token), .notFound)
            expectProblem(try await t.get("/api/v1/import-jobs/\(mine)", as: tess.token), .notFound)
            expectProblem(try await t.get("/api/v1/import-jobs/not-an-id", as: tess.token), .notFound)

            #expect(try await t.get("/api/v1/import-jobs", as: tess.token).json.ids == [id])
            #expect(try await t.get("/api/v1/import-jobs", as: theo.token).json.ids.isEmpty)
            #expect(try await t.get("/api/v1/import-jobs", as: restrictedAdmin.token).json.ids.isEmpty)
            #expect(try await t.get("/api/v1/import-jobs").json.ids == [mine, id], "newest first")
            #expect(try await t.get("/api/v1/import-jobs?limit=1").json["nextCursor"].string != nil)
            #expect(try await t.get("/api/v1/import-jobs?state=queued", as: tess.token).json.ids == [id])
            #expect(try await t.get("/api/v1/import-jobs?state=succeeded", as: tess.token).json.ids.isEmpty)
            expectProblem(try await t.get("/api/v1/import-jobs?state=done"), .unprocessableEntity, field: "state")
            expectProblem(try await t.get("/api/v1/import-jobs", as: ""), .unauthorized)
        }
    }

    /// The job runs as its submitter is when it starts: one deactivated since fails it, writing nothing.
    @Test func aJobWhoseSubmitterIsGoneFails() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            let tess = try await t.resource("tess")
            let id = try await t.submitImport(site, csv: Self.csv, as: tess.token).json["id"].string ?? ""
            try await t.must(.ok, .PATCH, "/api/v1/resources/\(tess.id)", ["active": false])
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 1)
            let job = try await t.get("/api/v1/import-jobs/\(id)").json
            #expect(job["state"].string == "failed")
            #expect(job["error"].string?.contains("no longer active") == true, "\(job)")
            #expect(try await t.get("/api/v1/client-profiles?siteId=\(site)").json.ids.isEmpty)
            #expect(try await Self.upload(of: id, t) == nil)
        }
    }

    // MARK: Leases

    /// A job another process holds is left alone while its lease runs, and taken over once it has ended.
    @Test func aRunningJobIsTakenOverWhenItsLeaseEnds() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            let id = try await t.submitImport(site, csv: Self.csv).json["id"].string ?? ""
            try await Self.held(id, by: "elsewhere:1:dead", until: t.db.now.addingTimeInterval(60), attempts: 1, t)
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 0, "the lease still holds")
            #expect(try await t.get("/api/v1/import-jobs/\(id)").json["state"].string == "running")

            try await Self.held(id, by: "elsewhere:1:dead", until: t.db.now.addingTimeInterval(-1), attempts: 1, t)
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 1)
            let job = try await t.get("/api/v1/import-jobs/\(id)").json
            #expect(job["state"].string == "succeeded" && job["attempts"].int == 2, "\(job)")
            #expect(ReportCounts(job["report"]) == ReportCounts(added: 2, failed: 1))
            #expect(try await t.get("/api/v1/client-profiles?siteId=\(site)").json.ids.count == 2)
            let row = try #require(try await ImportJob.find(UUID(uuidString: id), on: t.db))
            #expect(row.claimedBy == nil && row.leaseUntil == nil)
        }
    }

    /// Rows a dead run wrote before it died change nothing twice: the takeover runs the file again from its first row,
    /// and what the dead run added or edited is reported as added or edited (the audit log says so), not as unchanged.
    @Test func aTakeoverAfterAPartialRunChangesNothingTwice() async throws {
        let clock = SetClock(Date(timeIntervalSince1970: 1_796_000_000))
        try await withApp(clock: clock) { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            // Before the job: the file changes Ben's phone and adds Ann and Cat (whose phone is refused).
            try await t.profile(site, "Ben", "Baker", email: "ben@client.example", phone: "5550199")
            clock.advance(by: 1)
            let id = try await t.submitImport(site, csv: Self.csv).json["id"].string ?? ""
            clock.advance(by: 1)
            // What the dead run wrote before it died, as the job's submitter: Ann's row and Ben's.
            let written = Self.csv.split(separator: "\n").prefix(3).joined(separator: "\n") + "\n"
            #expect(ReportCounts(try await t.importReport(site, csv: written)) == ReportCounts(added: 1, edited: 1))
            try await Self.held(id, by: "elsewhere:1:dead", until: t.db.now.addingTimeInterval(-1), attempts: 1, t)
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 1)
            let job = try await t.get("/api/v1/import-jobs/\(id)").json
            #expect(ReportCounts(job["report"]) == ReportCounts(added: 1, edited: 1, failed: 1), "\(job)")
            #expect(try await t.get("/api/v1/client-profiles?siteId=\(site)").json.ids.count == 2)
            // One summary for the job, written with its outcome by the run that finished it (the other is the
            // stand-in's for the dead run).
            #expect(try await t.auditEvents(entityId: site).filter { $0["action"].string == "imported" }.count == 2)
        }
    }

    /// A takeover runs the file again from its first row: a delete the dead run had applied is reported as deleted,
    /// not as an unknown profile; a delete row of a profile gone before the job was submitted still fails.
    @Test func aTakeoverReportsTheDeadRunsDeletesAsDeleted() async throws {
        let clock = SetClock(Date(timeIntervalSince1970: 1_796_000_000))
        try await withApp(clock: clock) { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            let dan = try await t.profile(site, "Dan", "Dole", email: "dan@client.example", phone: "5550103").id
            let eve = try await t.profile(site, "Eve", "East", email: "eve@client.example", phone: "5550104").id
            let header = "Id,First Name,Last Name,Email,Office Phone,Office Phone Country,Delete\n"
            func delete(_ id: String) -> String { "\(id),,,,,,Y\n" }
            #expect(ReportCounts(try await t.importReport(site, csv: header + delete(eve))) == ReportCounts(deleted: 1))
            clock.advance(by: 1)
            let id =
                try await t.submitImport(site, csv: header + delete(dan) + ",Ann,Able,ann@client.example,5550100,US,\n" + delete(eve)).json["id"]
                .string ?? ""
            clock.advance(by: 1)
            // What the dead run did before it died: Dan's row, as the job's submitter.
            #expect(ReportCounts(try await t.importReport(site, csv: header + delete(dan))) == ReportCounts(deleted: 1))
            try await Self.held(id, by: "elsewhere:1:dead", until: t.db.now.addingTimeInterval(-1), attempts: 1, t)
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 1)
            let job = try await t.get("/api/v1/import-jobs/\(id)").json
            #expect(ReportCounts(job["report"]) == ReportCounts(added: 1, deleted: 1, failed: 1), "\(job)")
            #expect(job["report"]["failures"][0]["row"] == 4, "Eve's row: she was gone before the job was submitted")
        }
    }

    @Test func aJobThatKeepsDyingFailsAfterItsAttempts() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            let id = try await t.submitImport(site, csv: Self.csv).json["id"].string ?? ""
            try await Self.held(id, by: "elsewhere:1:dead", until: t.db.now.addingTimeInterval(-1), attempts: ImportJobs.maxAttempts, t)
            #expect(try await ImportJobs.run(on: t.db, settings: t.app.settings, logger: t.app.logger) == 1)
            let job = try await t.get("/api/v1/import-jobs/\(id)").json
            #expect(job["state"].string == "failed" && job["attempts"].int == ImportJobs.maxAttempts, "\(job)")
            #expect(job["error"].string?.contains("started 3 times") == true)
            #expect(try await t.get("/api/v1/client-profiles?siteId=\(site)").json.ids.isEmpty, "it was not run a fourth time")
            #expect(try await Self.upload(of: id, t) == nil)
        }
    }

    /// A run whose job another process has claimed since (its own lease ended while it stalled) records nothing
    /// and no longer renews: the job stays the other process's.
    @Test func aRunThatLostItsClaimRecordsNothing() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            let id = try await t.submitImport(site, csv: Self.csv).json["id"].string ?? ""
            let job = try #require(try await ImportJobs.claim(lease: 60, on: t.db))
            #expect(job.id?.uuidString == id && job.claimedBy == ProcessIdentity.name)
            #expect(try await ImportJobs.renew(job.id!, lease: 60, on: t.db))

            try await Self.held(id, by: "elsewhere:2:alive", until: t.db.now.addingTimeInterval(60), attempts: 2, t)
            #expect(try await ImportJobs.renew(job.id!, lease: 60, on: t.db) == false)
            let report = ProfileImportReport(dryRun: false)
            let summary = ProfileTransferService.ImportAudit(site: try #require(try await Site.find(job.siteId, on: t.db)), actor: nil, report: report)
            #expect(try await ImportJobs.finish(job, .succeeded(report, summary), on: t.db) == nil)
            let row = try #require(try await ImportJob.find(job.id, on: t.db))
            #expect(row.state == .running && row.claimedBy == "elsewhere:2:alive" && row.report == nil)
            #expect(try await t.auditEvents(entityId: site).contains { $0["action"].string == "imported" } == false, "the summary is the other run's")
            #expect(try await Self.upload(of: id, t) != nil, "the other run still needs the upload")
        }
    }

    /// A run that stopped on something unexpected is queued again while attempts remain, then fails.
    @Test func anUnexpectedStopQueuesTheJobAgainUntilItsLastAttempt() async throws {
        try await withApp { t in
            let site = try await t.site(try await t.organization("Acme"), "HQ")
            _ = try await t.submitImport(site, csv: Self.csv)
            let first = try #require(try await ImportJobs.claim(lease: 60, on: t.db))
            #expect(try await ImportJobs.finish(first, .stopped("the database went away"), on: t.db) == .queued)
            var row = try #require(try await ImportJob.find(first.id, on: t.db))
            #expect(row.state == .queued && row.error == "the database went away" && row.claimedBy == nil && row.finishedAt == nil)

            try await Self.held(first.id!.uuidString, by: "elsewhere:1:dead", until: t.db.now.addingTimeInterval(-1), attempts: 2, t)
            let last = try #require(try await ImportJobs.claim(lease: 60, on: t.db))
            #expect(last.attempts == ImportJobs.maxAttempts)
            #expect(try await ImportJobs.finish(last, .stopped("the database went away"), on: t.db) == .failed)
            row = try #require(try await ImportJob.find(first.id, on: t.db))
            #expect(row.state == .failed && row.error?.contains("the last of 3 attempts") == true && row.finishedAt != nil)
        }
    }

    // MARK: Helpers

    /// The first piece of a job's stored upload, or nil when it is gone.
    static func upload(of id: String, _ t: TestApp) async throws -> Data? {
        try await t.app.settings.blobs.get(ImportUpload.key("import-\(id.lowercased())", 0), on: t.db)
    }

    /// Makes the job look claimed by another process, with its lease ending at `until`.
    static func held(_ id: String, by process: String, until: Date, attempts: Int, _ t: TestApp) async throws {
        let job = try #require(try await ImportJob.find(UUID(uuidString: id), on: t.db))
        job.state = .running
        job.claimedBy = process
        job.leaseUntil = until
        job.attempts = attempts
        try await t.db.write { db in try await job.save(on: db) }
    }
}
