import Fluent
import Foundation
import SQLKit
import ServiceLifecycle
import TandemCore
import Testing
import VaporTesting

@testable import App

/// Liveness and readiness, the options that split web and worker processes, and the worker's graceful end.
@Suite struct OperationsTests {
    /// The hourly blob sweep removes stored bytes nothing points at once they are a day old, and keeps what an
    /// attachment or an import job points at: the directory store on SQLite, the `blobs` table on PostgreSQL.
    @Test func theBlobSweepRemovesBytesNothingPointsAt() async throws {
        let clock = SetClock(Date(timeIntervalSince1970: 1_796_000_000))
        try await withApp(clock: clock) { t in
            let blobs = t.app.settings.blobs
            let organization = try await t.organization("Acme")
            let ticket = try await t.ticket(organization, "Printer").id
            let attachment = try await t.create("/api/v1/tickets/\(ticket)/attachments", AttackSuiteInputTests.attachmentBody("spooler.log")).id
            let job = try await t.submitImport(try await t.site(organization, "HQ"), csv: ImportJobTests.csv).json["id"].string ?? ""
            // What an attachment write that failed after its bytes, and an upload killed before its job, leave behind.
            let orphan = UUID().uuidString.lowercased(), piece = ImportUpload.key("import-\(UUID().uuidString.lowercased())", 0)
            try await t.db.write { db in
                try await blobs.put(Data("orphan".utf8), key: orphan, on: db)
                try await blobs.put(Data("piece".utf8), key: piece, on: db)
            }
            clock.advance(by: 23 * 3600)
            #expect(try await BlobSweep.run(on: t.db, blobs: blobs, interval: 0) == 0, "under a day old: their rows may be on their way")

            clock.advance(by: 2 * 3600)
            let young = UUID().uuidString.lowercased()
            try await t.db.write { db in try await blobs.put(Data("young".utf8), key: young, on: db) }
            // One key at a time: every page after a deleted key goes on from where the last one ended.
            #expect(try await BlobSweep.run(on: t.db, blobs: blobs, interval: 0, chunk: 1) == 2)
            #expect(try await BlobSweep.run(on: t.db, blobs: blobs) == nil, "once an hour")
            #expect(try await blobs.get(orphan, on: t.db) == nil)
            #expect(try await blobs.get(piece, on: t.db) == nil)
            #expect(try await blobs.get(young, on: t.db) != nil)
            let blobKey = try #require(try await Attachment.find(UUID(uuidString: attachment), on: t.db)).blobKey
            #expect(try await blobs.get(blobKey, on: t.db) != nil, "the attachment's bytes")
            let upload = try #require(try await ImportJob.find(UUID(uuidString: job), on: t.db)).uploadKey
            #expect(try await blobs.get(ImportUpload.key(upload, 0), on: t.db) != nil, "the queued job's upload")
        }
    }

    /// `/metrics` tells how far the background work is behind, from the database: events the consumers have not
    /// handled (also before any worker ran), SLA tickets due, import jobs queued; a worker round brings them down.
    @Test func theMetricsTellHowFarTheBackgroundWorkIsBehind() async throws {
        try await withApp { t in
            func gauge(_ line: String) async throws -> Int? {
                let text = try await t.get("/metrics", as: "").text
                return text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
            }
            let office = try await SLATests.office(t)
            try await t.ticket(office.organization, "Printer", extra: ["siteId": .string(office.site), "priority": "high"])
            expectStatus(try await t.submitImport(try await t.site(office.organization, "Branch"), csv: ImportJobTests.csv), .accepted)
            let behind = try #require(try await gauge("tandem_events_unconsumed{consumer=\"automation\"}"))
            #expect(behind > 0)
            #expect(try await gauge("tandem_events_unconsumed{consumer=\"webhooks\"}") == nil, "no webhook: the consumer reads nothing")
            #expect(try await gauge("tandem_import_jobs_queued") == 1)
            #expect(try await gauge("tandem_sla_tickets_due") == 0, "not marked before the watch reads the events")

            try await SLAWatch.run(on: t.db, interval: 0, batch: 0)
            #expect(try await gauge("tandem_sla_tickets_due") == 1, "marked by the watch's pass, not yet worked out")
            while await BackgroundWorker.round(t.app) > 0 {}
            #expect(try await gauge("tandem_events_unconsumed{consumer=\"automation\"}") == 0)
            #expect(try await gauge("tandem_import_jobs_queued") == 0)
            #expect(try await gauge("tandem_sla_tickets_due") == 0)
            #expect(try await gauge("tandem_outbox_due") == 0)
        }
    }

    @Test func livenessAndReadiness() async throws {
        try await withApp { t in
            let live = try await t.get("/healthz/live", as: "")
            expectStatus(live, .ok)
            #expect(live.json["status"].string == "ok")
            let ready = try await t.get("/healthz/ready", as: "")
            expectStatus(ready, .ok)
            #expect(ready.json["status"].string == "ready")
            #expect(ready.headers.first(name: .cacheControl) == "no-store")

            // A binary newer than its schema is not ready, and says which migration is missing.
            let last = try #require(Migrations.all.last).name
            try await t.db.sql.raw("DELETE FROM _fluent_migrations WHERE name = \(bind: last)").run()
            expectProblem(try await t.get("/healthz/ready", as: ""), .serviceUnavailable, contains: "1 migration(s) have not run")
            #expect(try await Health.missingMigrations(t.db) == [last])
            await #expect(throws: TandemError.conflict("1 migration(s) have not run; run tandem migrate")) {
                try await Health.requireCurrentSchema(t.db)
            }
            // Liveness does not ask the database.
            expectStatus(try await t.get("/healthz/live", as: ""), .ok)
        }
    }

    @Test func tandemsOwnServeOptionsAreNotPassedToVapor() {
        #expect(
            AppOptions.SMTPListen.removingOption(from: ["serve", "--no-workers", "--port", "8080", "--smtp-port", "2525"]) == [
                "serve", "--port", "8080",
            ])
        #expect(AppOptions.SMTPListen.removingOption(from: ["worker"]) == ["worker"])
    }

    /// Claims name their process; a run that outlived its lease records nothing for a message another run has claimed.
    @Test func aLateRunLeavesARetakenMessageToItsNewClaimant() async throws {
        try await withApp { t in
            let message = OutboxMessage(
                channel: .webhook, recipient: "https://hooks.example.com/x", subject: "ticket.created", body: "{}", messageId: nil, at: t.db.now)
            try await message.create(on: t.db)
            let claimed = try await Outbox.claim([.webhook], limit: 10, lease: 60, on: t.db)
            #expect(claimed.map(\.id) == [message.id])
            #expect(claimed.first?.claimedBy == ProcessIdentity.name)
            #expect(try await Outbox.claim([.webhook], limit: 10, on: t.db).isEmpty, "a claimed message is not claimed twice")

            // The lease ran out and another instance took the message.
            try await OutboxMessage.query(on: t.db).set(\.$claimedBy, to: "other-host:4242:abcd1234").update()
            try await Outbox.record([(message.id!, .sent)], on: t.db)
            var stored = try #require(try await OutboxMessage.find(message.id, on: t.db))
            #expect(stored.state == .pending && stored.attempts == 0 && stored.claimedBy == "other-host:4242:abcd1234")

            // Its own claim is recorded, and released.
            try await OutboxMessage.query(on: t.db).set(\.$claimedBy, to: ProcessIdentity.name).update()
            try await Outbox.record([(message.id!, .sent)], on: t.db)
            stored = try #require(try await OutboxMessage.find(message.id, on: t.db))
            #expect(stored.state == .sent && stored.attempts == 1 && stored.claimedBy == nil && stored.claimedUntil == nil)
        }
    }

    /// `serve`'s background work runs on a thread of its own at a lower priority than the requests, with database
    /// connections of its own on that thread (a step's rows are decoded there, not on a loop answering requests); its
    /// writes still take the application's path (group commit on SQLite).
    @Test func serveRunsTheBackgroundWorkOnItsOwnThreadBelowTheRequests() async throws {
        try await withApp { t in
            _ = try await t.ticket(try await t.organization("Northwind"))
            let app = t.app
            let thread = BackgroundThread(app)
            let (nice, onItsThread) = await Task(executorPreference: thread) {
                _ = await BackgroundWorker.round(app, db: thread.db)
                return (getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), thread.db.eventLoop.inEventLoop)
            }.value
            await thread.shutdown()
            #expect(nice == 10, "the background thread runs at nice 10")
            #expect(onItsThread, "the background database's connections live on the background thread")
            // The round's writes landed: the consumers moved to the ticket's event.
            let positions = try await t.db.sql.raw(
                "SELECT c.position AS position, (SELECT MAX(position) FROM events) AS last FROM event_consumers c"
            ).all().map { (try $0.decode(column: "position", as: Int.self), try $0.decode(column: "last", as: Int.self)) }
            #expect(!positions.isEmpty && positions.allSatisfy { $0.0 == $0.1 && $0.1 > 0 }, "\(positions)")
        }
    }

    /// A body streamed after its response (exports, a page import's progress) is a request in flight until it has
    /// been written to its end, so a graceful shutdown waits for it; one dropped unwritten is not waited for.
    @Test func aStreamedBodyIsInFlightUntilItsEnd() async throws {
        let inFlight = InFlightRequests()
        let body = inFlight.streamed { writer in
            try await writer.writeBuffer(ByteBuffer(string: "first,"))
            try await Task.sleep(for: .milliseconds(20))
            try await writer.writeBuffer(ByteBuffer(string: "last"))
        }
        #expect(inFlight.count == 1, "counted from the handler on")
        let written = try await body.collect(on: MultiThreadedEventLoopGroup.singleton.next()).get()
        #expect(written.map { String(buffer: $0) } == "first,last")
        #expect(inFlight.count == 0, "done once written to its end")

        var dropped: Response.Body? = inFlight.streamed { _ in }
        #expect(inFlight.count == 1 && dropped != nil)
        dropped = nil
        #expect(inFlight.count == 0 && dropped == nil, "a body dropped unwritten is not waited for")

        let hold = inFlight.hold()
        hold.release()
        hold.release()
        #expect(inFlight.count == 0, "a hold is released once")
    }

    /// A graceful shutdown ends the worker after its round, without waiting out its idle pause.
    @Test func theWorkerEndsGracefully() async throws {
        try await withApp { t in
            let group = ServiceGroup(configuration: .init(services: [.init(service: BackgroundWorker(app: t.app))], logger: t.app.logger))
            let running = Task { try await group.run() }
            try await Task.sleep(for: .milliseconds(300))
            await group.triggerGracefulShutdown()
            // The worker's idle pause is a second; ten mean it did not hear the shutdown.
            let ended = await withTaskGroup(of: Bool.self) { race in
                race.addTask { (try? await running.value) != nil }
                race.addTask {
                    try? await Task.sleep(for: .seconds(10))
                    return false
                }
                defer { race.cancelAll() }
                return await race.next() ?? false
            }
            #expect(ended, "the worker did not end within 10 s of a graceful shutdown")
            running.cancel()
        }
    }
}
