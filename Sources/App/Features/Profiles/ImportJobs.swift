import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Spreadsheets
import TandemCore
import Vapor

/// An import that outlives its request (issue 22): submitted with `Prefer: respond-async`, its upload kept in the
/// blob store, run by a background worker of any instance as the person who submitted it.
final class ImportJob: Model, @unchecked Sendable {
    static let schema = "import_jobs"
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id", .owner: "requested_by"])

    enum Kind: String, Codable, Sendable {
        case clientProfiles
    }

    enum State: String, Codable, Sendable, CaseIterable {
        /// Waiting for a worker (again, after a run that stopped on an unexpected error).
        case queued
        /// Claimed by `claimedBy` until `leaseUntil`, renewed while it runs; a lease that ends lets another take it.
        case running
        case succeeded
        case failed
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "kind") var kind: Kind
    @Field(key: "site_id") var siteId: UUID
    @Field(key: "organization_id") var organizationId: UUID
    /// Who submitted it: the job runs as this principal, loaded again with its permissions of the moment it starts.
    @Field(key: "requested_by") var requestedBy: UUID
    @Field(key: "requested_by_kind") var requestedByKind: PrincipalKind
    /// A `TableFormat`.
    @Field(key: "format") var format: String
    @Field(key: "dry_run") var dryRun: Bool
    /// The upload in the blob store: `uploadPieces` pieces (`ImportUpload`), until the job ends.
    @Field(key: "upload_key") var uploadKey: String
    @Field(key: "upload_pieces") var uploadPieces: Int
    @Field(key: "byte_size") var byteSize: Int
    @Field(key: "state") var state: State
    /// Runs started, a takeover's included.
    @Field(key: "attempts") var attempts: Int
    /// The process that holds the claim (`ProcessIdentity.name`).
    @OptionalField(key: "claimed_by") var claimedBy: String?
    @OptionalField(key: "lease_until") var leaseUntil: Date?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "started_at") var startedAt: Date?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    /// The report the synchronous import answers, as JSON, once the job succeeded.
    @OptionalField(key: "report") var report: String?
    /// Why it failed (or, while queued again, why its last run stopped).
    @OptionalField(key: "error") var error: String?

    init() {}
}

/// An import job as the API shows it: what was submitted, where it stands, its report or error.
struct ImportJobDTO: Content {
    var id: UUID
    var kind: ImportJob.Kind
    var siteId: UUID
    var organizationId: UUID
    var requestedBy: UUID
    var format: String
    var dryRun: Bool
    var byteSize: Int
    var state: ImportJob.State
    var attempts: Int
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var report: ProfileImportReport?
    var error: String?

    init(_ job: ImportJob) {
        id = job.id!
        kind = job.kind
        siteId = job.siteId
        organizationId = job.organizationId
        requestedBy = job.requestedBy
        format = job.format
        dryRun = job.dryRun
        byteSize = job.byteSize
        state = job.state
        attempts = job.attempts
        createdAt = job.createdAt
        startedAt = job.startedAt
        finishedAt = job.finishedAt
        report = job.report.flatMap { JSONColumn.decodeIfValid($0, as: ProfileImportReport.self) }
        error = job.error
    }
}

/// Submitting, claiming, running and reading import jobs.
enum ImportJobs {
    static let what = "import job"
    /// Runs a job may start before it fails for good: one that keeps dying (its process killed, out of memory)
    /// stops being taken over.
    static let maxAttempts = 3

    static func path(_ job: ImportJob) -> String { "/api/v1/import-jobs/\(job.id!.text)" }

    /// Whether the request asks to be answered at once (RFC 7240 `Prefer: respond-async`, among other preferences).
    static func prefersAsync(_ headers: HTTPHeaders) -> Bool {
        headers["Prefer"].flatMap { $0.split(separator: ",") }.contains { preference in
            preference.prefix(while: { $0 != ";" && $0 != "=" }).trimmingCharacters(in: .whitespaces).lowercased() == "respond-async"
        }
    }

    // MARK: Submitting

    /// Stores the upload (refusing more than `limit` bytes) and queues the job. The caller has checked the site
    /// and the principal's rights (`ProfileTransferService.importableSite`) and the format, as for an import now.
    static func submit(
        _ body: Request.Body, limit: Int, site: Site, format: TableFormat, dryRun: Bool, by principal: Principal, blobs: any BlobStore,
        on db: any Database
    ) async throws -> ImportJob {
        let job = ImportJob()
        job.id = .v7()
        job.uploadKey = "import-\(job.id!.text.lowercased())"
        let (bytes, pieces) = try await ImportUpload.store(body, key: job.uploadKey, limit: limit, blobs: blobs, on: db)
        job.kind = .clientProfiles
        job.siteId = site.id!
        job.organizationId = site.organizationId
        job.requestedBy = principal.id
        job.requestedByKind = principal.kind
        job.format = format.rawValue
        job.dryRun = dryRun
        job.uploadPieces = pieces
        job.byteSize = bytes
        job.state = .queued
        job.attempts = 0
        job.createdAt = db.now
        do {
            try await db.write { db in try await job.create(on: db) }
        } catch {
            try? await ImportUpload.delete(job, blobs: blobs, on: db)
            throw error
        }
        return job
    }

    // MARK: Reading

    static func visible(_ id: UUID, by principal: Principal, on db: any Database) async throws -> ImportJob {
        try await Lookup.visible(ImportJob.self, id, scope: AccessPolicy.importJobScope(for: principal), table: ImportJob.scopeTable, what: what, on: db)
    }

    /// The jobs the principal sees, newest first, in one state or all.
    static func list(state text: String?, page: PageRequest, by principal: Principal, on db: any Database) async throws -> ListPage<ImportJobDTO> {
        var query = ImportJob.query(on: db).filter(AccessPolicy.importJobScope(for: principal), on: ImportJob.scopeTable)
        if let text {
            guard let state = ImportJob.State(rawValue: text) else {
                throw TandemError.invalid("state", "must be one of \(ImportJob.State.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query = query.filter(\.$state == state)
        }
        let (items, next) = try await query.page(page, newestFirst: true)
        return ListPage(items: items.map(ImportJobDTO.init), nextCursor: next)
    }

    // MARK: Running

    /// The worker's step: claims one job and runs it to its end. Answers 1 when it found one.
    static func run(on db: any Database, settings: AppSettings, logger: Logger) async throws -> Int {
        let lease = settings.options.outboxLease
        guard let job = try await claim(lease: lease, on: db) else { return 0 }
        if job.state == .failed {
            try await ImportUpload.delete(job, blobs: settings.blobs, on: db)
        } else {
            try await work(job, lease: lease, blobs: settings.blobs, logger: logger, on: db)
        }
        return 1
    }

    /// Claims the oldest job that waits, or that runs under a lease that has ended (its process died or stalled),
    /// in a write transaction of its own: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so two instances never take the
    /// same job; on SQLite the transaction holds the only write lock from its start. A job already started
    /// `maxAttempts` times is failed here instead, and answered as it is now, failed.
    static func claim(lease: TimeInterval, on db: any Database) async throws -> ImportJob? {
        // Nothing to do: no write (the loop asks every round, and SQLite has one writer).
        guard try await claimable(on: db).first() != nil else { return nil }
        return try await db.write { db in
            guard let row = try await claimable(on: db).lockingClause(SQLRaw(db.stores.claimLocking)).first(),
                let job = try await ImportJob.find(try row.decode(column: "id", as: UUID.self), on: db)
            else { return nil }
            let now = db.now
            if job.attempts >= maxAttempts {
                job.state = .failed
                job.finishedAt = now
                job.claimedBy = nil
                job.leaseUntil = nil
                job.error =
                    "the import was started \(job.attempts) times and its process stopped each time before it ended "
                    + "(killed, or out of memory); rows it had written stay written: submit the file again to finish it"
            } else {
                job.state = .running
                job.attempts += 1
                job.startedAt = job.startedAt ?? now
                job.claimedBy = ProcessIdentity.name
                job.leaseUntil = now.addingTimeInterval(lease)
            }
            try await job.save(on: db)
            return job
        }
    }

    private static func claimable(on db: any Database) -> SQLSelectBuilder {
        db.sql.select().column("id").from(ImportJob.schema)
            .where {
                $0.where("state", .equal, ImportJob.State.queued.rawValue).orWhere {
                    $0.where("state", .equal, ImportJob.State.running.rawValue).where("lease_until", .lessThan, db.now)
                }
            }
            .orderBy("created_at").limit(1)
    }

    /// How a run ended.
    enum Outcome: Sendable {
        /// With the audit's summary, nil for a dry run: written with the outcome, so a run that loses its claim
        /// before recording leaves none and its takeover writes one.
        case succeeded(ProfileImportReport, ProfileTransferService.ImportAudit?)
        /// The file, the site or the person's rights refused it: running it again cannot help.
        case failed(String)
        /// Stopped on something unexpected (the database went away): queued again while attempts remain.
        case stopped(String)
    }

    /// Runs a claimed job as the person who submitted it, renewing its lease every third of it while it runs,
    /// then records how it ended and, when it has, deletes its upload.
    static func work(_ job: ImportJob, lease: TimeInterval, blobs: any BlobStore, logger: Logger, on db: any Database) async throws {
        let id = job.id!
        let lost = NIOLockedValueBox(false)
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(lease / 3))
                guard !Task.isCancelled else { return }
                do {
                    let held = try await renew(id, lease: lease, on: db)
                    if !held {
                        lost.withLockedValue { $0 = true }
                        return
                    }
                } catch {
                    // The lease may still hold: try again next time.
                    logger.warning("import job lease not renewed", metadata: ["job": .string(id.text), "error": .string("\(error)")])
                }
            }
        }
        defer { heartbeat.cancel() }
        let outcome: Outcome
        do {
            let (report, audit) = try await perform(job, blobs: blobs, on: db) {
                if lost.withLockedValue({ $0 }) { throw ClaimLost() }
            }
            outcome = .succeeded(report, audit)
        } catch is ClaimLost {
            logger.warning("import job taken over by another process; this run stops", metadata: ["job": .string(id.text)])
            return
        } catch let error as TandemError {
            outcome = .failed(ProblemMiddleware.problem(for: error).0.detail)
        } catch let error as ImportUpload.Missing {
            outcome = .failed(error.description)
        } catch {
            logger.error("import job stopped", metadata: ["job": .string(id.text), "error": .string("\(error)")])
            // The error itself is in the log, as a 500's is: its text may name the database or the server's files.
            outcome = .stopped("the import stopped on an unexpected error (logged on the server); rows it had written stay written")
        }
        heartbeat.cancel()
        if let state = try await finish(job, outcome, on: db), state == .succeeded || state == .failed {
            try await ImportUpload.delete(job, blobs: blobs, on: db)
        }
    }

    /// The import itself: the synchronous import's path (`ProfileTransferService`), as the principal who submitted
    /// the job is now. Running it again from the first row after a takeover is safe: importing rows that are already
    /// in changes nothing (README, "Client profiles"): an added row then matches its profile by id or email, or as
    /// the identical profile, and the audit log says which of those changes the dead run made (`appliedSince`).
    static func perform(_ job: ImportJob, blobs: any BlobStore, on db: any Database, checkClaim: @escaping @Sendable () throws -> Void) async throws
        -> (ProfileImportReport, ProfileTransferService.ImportAudit?)
    {
        guard let principal = try await PrincipalLoader.load(id: job.requestedBy, kind: job.requestedByKind, on: db) else {
            throw TandemError.forbidden("the person who submitted this import is no longer active, so it cannot run as them; submit the file again")
        }
        let (site, transfer) = try await ProfileTransferService.importableSite(job.siteId, for: principal, on: db)
        let format = TableFormat(rawValue: job.format) ?? .csv
        let url = ProfileTransferService.temporaryFile(format)
        defer { try? FileManager.default.removeItem(at: url) }
        try await ImportUpload.copy(job, to: url, blobs: blobs, on: db)
        try checkClaim()
        // A takeover runs the file again from its first row: what the dead run applied is reported as applied.
        let appliedEarlier = job.attempts > 1 && !job.dryRun ? try await appliedSince(job, site: site, on: db) : .init()
        let report = try await ProfileTransferService.importFile(
            at: url, format: format, site: site, rights: transfer.importRights, by: principal, dryRun: job.dryRun, recordsAudit: false,
            appliedEarlier: appliedEarlier, on: db
        ) { _, _ in try checkClaim() }
        return (report, job.dryRun ? nil : ProfileTransferService.ImportAudit(site: site, actor: principal, report: report))
    }

    /// The changes its submitter made to the profiles of `site` since the job was submitted (the audit log's events of
    /// contacts): those an earlier run of it applied, and any they made by hand meanwhile, which a row of the file
    /// asking for the same then also counts as done.
    static func appliedSince(_ job: ImportJob, site: Site, on db: any Database) async throws -> ProfileImporter.AppliedEarlier {
        let events = try await AuditEvent.query(on: db).filter(\.$entityType == Contact.schema).filter(\.$action ~~ ["created", "updated", "deleted"])
            .filter(\.$actorId == job.requestedBy).filter(\.$organizationId == site.organizationId).filter(\.$at >= job.createdAt).all()
        /// What the takeover needs of a profile as the event recorded it.
        struct Recorded: Decodable {
            let siteId: UUID?
            let email: String?
        }
        var applied = ProfileImporter.AppliedEarlier()
        for event in events {
            guard let id = event.entityId, let json = event.action == "deleted" ? event.before : event.after,
                let profile = try? JSONDecoder().decode(Recorded.self, from: Data(json.utf8)), profile.siteId == site.id
            else { continue }
            switch event.action {
            case "created": applied.added.insert(id)
            case "updated": applied.edited.insert(id)
            default:
                applied.deleted.insert(id)
                if let email = profile.email, !email.isEmpty { applied.deletedEmails.insert(email.lowercased()) }
            }
        }
        return applied
    }

    /// Extends the lease, only while this process still holds the job; false when another process has taken it.
    static func renew(_ id: UUID, lease: TimeInterval, on db: any Database) async throws -> Bool {
        try await db.write { db in
            try await held(id, on: db).set("lease_until", to: db.now.addingTimeInterval(lease)).returning("id").all().isEmpty == false
        }
    }

    /// Records how a run ended, only while this process still holds the job: a run that outlived its lease leaves the
    /// job to the process that took it over. A success's audit summary is written in the same transaction, so the
    /// log holds one per job however often it ran. Answers the state recorded, or nil.
    static func finish(_ job: ImportJob, _ outcome: Outcome, on db: any Database) async throws -> ImportJob.State? {
        try await db.write { db in
            var state = ImportJob.State.failed
            var report: String?, error: String?, audit: ProfileTransferService.ImportAudit?
            switch outcome {
            case .succeeded(let result, let summary):
                state = .succeeded
                report = JSONColumn.encode(result)
                audit = summary
            case .failed(let message):
                error = message
            case .stopped(let message) where job.attempts >= maxAttempts:
                error = "\(message); the last of \(maxAttempts) attempts: submit the file again"
            case .stopped(let message):
                state = .queued
                error = message
            }
            func value(_ value: (any Encodable & Sendable)?) -> any SQLExpression { value.map { SQLBind($0) } ?? SQLLiteral.null }
            let recorded = try await held(job.id!, on: db)
                .set("state", to: state.rawValue).set("claimed_by", to: SQLLiteral.null).set("lease_until", to: SQLLiteral.null)
                .set("finished_at", to: value(state == .queued ? nil : db.now)).set("report", to: value(report)).set("error", to: value(error))
                .returning("id").all()
            guard !recorded.isEmpty else { return nil }
            try await audit?.record(on: db)
            return state
        }
    }

    /// An update of the job while this process holds it.
    private static func held(_ id: UUID, on db: any Database) -> SQLUpdateBuilder {
        db.sql.update(ImportJob.schema).where("id", .equal, id).where("state", .equal, ImportJob.State.running.rawValue)
            .where("claimed_by", .equal, ProcessIdentity.name)
    }

    /// Another process claimed the job after this one's lease ended.
    struct ClaimLost: Error {}
}

/// A job's upload in the blob store the attachments use, in pieces of at most 4 MB (`<key>-0`, `<key>-1`, …): no
/// piece is held whole in memory, and with the blobs in the database (PostgreSQL's default) any instance can run the
/// job. The directory store writes each piece to a temporary name, fsyncs it and renames it, so the upload is on disk
/// before the job's row is committed; a process killed in between leaves pieces without a job, never a job without
/// its pieces.
enum ImportUpload {
    static let pieceBytes = 4 * 1_048_576

    struct Missing: Error, CustomStringConvertible {
        var piece: Int
        var description: String { "the stored upload is incomplete (part \(piece + 1) is missing); submit the file again" }
    }

    static func key(_ base: String, _ piece: Int) -> String { "\(base)-\(piece)" }

    /// The upload a piece's key belongs to (nil: not a piece's key).
    static func upload(of key: String) -> String? {
        guard key.hasPrefix("import-"), let dash = key.lastIndex(of: "-"), Int(key[key.index(after: dash)...]) != nil else { return nil }
        return String(key[..<dash])
    }

    /// Stores the body; refuses more than `limit` bytes (413) and then leaves nothing behind. Answers its size and pieces.
    static func store(_ body: Request.Body, key base: String, limit: Int, blobs: any BlobStore, on db: any Database) async throws -> (
        bytes: Int, pieces: Int
    ) {
        var pending = ByteBuffer()
        var bytes = 0, pieces = 0
        do {
            try await body.forEach(limit: limit) { buffer in
                var buffer = buffer
                bytes += buffer.readableBytes
                pending.writeBuffer(&buffer)
                while pending.readableBytes >= pieceBytes, let piece = pending.readBytes(length: pieceBytes) {
                    try await put(Data(piece), key: key(base, pieces), blobs: blobs, on: db)
                    pieces += 1
                }
                pending.discardReadBytes()
            }
            if pending.readableBytes > 0 {
                try await put(Data(pending.readableBytesView), key: key(base, pieces), blobs: blobs, on: db)
                pieces += 1
            }
        } catch {
            // The piece being written when it failed too.
            try? await delete(base, pieces: pieces + 1, blobs: blobs, on: db)
            throw error
        }
        return (bytes, pieces)
    }

    /// One piece, in a write of its own as an attachment's bytes are (in the `blobs` table on PostgreSQL).
    private static func put(_ data: Data, key: String, blobs: any BlobStore, on db: any Database) async throws {
        try await db.write { db in try await blobs.put(data, key: key, on: db) }
    }

    /// Writes the pieces back into one file, for the import to read as it reads an upload.
    static func copy(_ job: ImportJob, to url: URL, blobs: any BlobStore, on db: any Database) async throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        for piece in 0..<job.uploadPieces {
            guard let data = try await blobs.get(key(job.uploadKey, piece), on: db) else { throw Missing(piece: piece) }
            try handle.write(contentsOf: data)
        }
    }

    static func delete(_ job: ImportJob, blobs: any BlobStore, on db: any Database) async throws {
        try await delete(job.uploadKey, pieces: job.uploadPieces, blobs: blobs, on: db)
    }

    private static func delete(_ base: String, pieces: Int, blobs: any BlobStore, on db: any Database) async throws {
        try await db.write { db in
            for piece in 0..<pieces { try await blobs.delete(key(base, piece), on: db) }
        }
    }
}
