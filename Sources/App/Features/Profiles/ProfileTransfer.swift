import FluentKit
import Foundation
import SQLKit
import Spreadsheets
import TandemCore
import Vapor

/// Bulk import and export of a site's client profiles, for the API, the pages and the command line.
enum ProfileTransferService {
    /// The site, visible to the principal, with what the policy lets them do with its profiles. `nil` is the command line.
    static func site(_ id: UUID, for principal: Principal?, on db: any Database) async throws -> (Site, ProfileTransfer) {
        var query = Site.query(on: db).filter(\.$id == id)
        if let principal { query = query.filter(AccessPolicy.organizationScope(for: principal, area: .sites, .view), on: Site.scopeTable) }
        guard let site = try await query.first() else { throw TandemError.notFound("site") }
        let transfer =
            principal.map { AccessPolicy.profileTransfer(for: $0, organizationId: site.organizationId) }
            ?? ProfileTransfer(export: true, importRights: .all)
        return (site, transfer)
    }

    /// The site of an import, as the principal may import into it now: the synchronous import and an import job's
    /// submission ask it before reading the file, and the job again when it starts, with the principal reloaded.
    static func importableSite(_ id: UUID, for principal: Principal, on db: any Database) async throws -> (Site, ProfileTransfer) {
        let (site, transfer) = try await site(id, for: principal, on: db)
        try transfer.authorizeImport()
        return (site, transfer)
    }

    /// Imports a file already on disk. The file is read twice: once to refuse it whole (encoding, delimiter,
    /// quoting, header) before anything is written, then to import it in batches of rows, each row all-or-nothing.
    /// `progress` gets the fraction done (0...1) after each batch; an error it throws stops the import there (an
    /// import job that lost its claim), with every row written so far whole. The audit's "imported" summary is
    /// written at the end unless `recordsAudit` is false: an import job writes it with the job's outcome instead.
    static func importFile(
        at url: URL, format: TableFormat, site: Site, rights: ProfileImportRights, by actor: Principal?, dryRun: Bool,
        recordsAudit: Bool = true, appliedEarlier: ProfileImporter.AppliedEarlier = .init(), on db: any Database,
        progress: @Sendable (Double, ProfileImportReport) async throws -> Void = { _, _ in }
    ) async throws -> ProfileImportReport {
        let store = SQLProfileStore(db: db, siteId: site.id!, organizationId: site.organizationId, actor: actor)
        var importer = ProfileImporter(store: store, rights: rights, dryRun: dryRun)
        importer.appliedEarlier = appliedEarlier
        do {
            // Pass 1: the whole file must read cleanly, so a bad byte on row 90,000 writes nothing.
            let check = try openTable(at: url, format: format)
            guard let header = try check.next() else { throw ProfileFileError("the file is empty: its first row must be the header row") }
            try importer.begin(header: header.cells)
            var counted = 0
            while try check.next() != nil {
                counted += 1
                if counted % 5000 == 0 { try await progress(check.progress * 0.2, importer.report) }
            }
            // Pass 2: the import, one batch written while the next is read and matched.
            let reader = try openTable(at: url, format: format)
            _ = try reader.next()
            var pipeline = ImportPipeline(importer: importer, store: store)
            var batch: [(number: Int, cells: [String])] = []
            batch.reserveCapacity(importer.batchSize)
            do {
                while let row = try reader.next() {
                    batch.append((row.number, row.cells))
                    if batch.count == importer.batchSize {
                        try await pipeline.submit(batch)
                        batch.removeAll(keepingCapacity: true)
                        try await progress(0.2 + reader.progress * 0.8, pipeline.importer.report)
                    }
                }
                try await pipeline.submit(batch)
                try await pipeline.drain()
            } catch {
                // Nothing keeps writing after the import has answered.
                try? await pipeline.drain()
                throw error
            }
            importer = pipeline.importer
        } catch let error as TableFileError {
            throw TandemError.validation([FieldError("file", error.message)])
        } catch let error as ProfileFileError {
            throw TandemError.validation([FieldError("file", error.message)])
        }
        let report = importer.report
        try await progress(1, report)
        if !dryRun && recordsAudit {
            try await db.write { tx in try await ImportAudit(site: site, actor: actor, report: report).record(on: tx) }
        }
        return report
    }

    /// The audit log's "imported" record of an import that ran (not of a dry run): counts only, the rows have
    /// their own events.
    struct ImportAudit: Sendable {
        let siteId: UUID
        let organizationId: UUID
        let actor: Principal?
        let report: ProfileImportReport

        init(site: Site, actor: Principal?, report: ProfileImportReport) {
            siteId = site.id!
            organizationId = site.organizationId
            self.actor = actor
            self.report = report
        }

        func record(on db: any Database) async throws {
            try await Audit.record(
                "imported", "client_profiles", id: siteId, by: actor, organizationId: organizationId, after: ImportSummary(report), on: db)
        }
    }

    /// Overlaps the import's two halves: while the store applies one batch (on SQLite, SQLite's own
    /// thread), the importer reads and matches the next against the site as that batch leaves it.
    /// A dry run writes nothing, so it simply runs batch after batch.
    struct ImportPipeline {
        var importer: ProfileImporter
        let store: SQLProfileStore
        private var writing: (batch: ProfileImporter.PreparedBatch, write: Task<[Int: String], any Error>)?

        init(importer: ProfileImporter, store: SQLProfileStore) {
            self.importer = importer
            self.store = store
        }

        mutating func submit(_ rows: [(number: Int, cells: [String])]) async throws {
            if importer.dryRun { return try await importer.process(rows) }
            var next = importer
            var batch = try await next.prepare(rows, inFlight: writing?.batch.changes ?? [])
            if let writing {
                let refused = try await writing.write.value
                self.writing = nil
                if refused.isEmpty {
                    next.finish(writing.batch, refused: [:])
                } else {
                    // Matching assumed every change of the previous batch lands: match again without it.
                    importer.finish(writing.batch, refused: refused)
                    next = importer
                    batch = try await next.prepare(rows)
                }
            }
            importer = next
            guard !batch.changes.isEmpty else { return importer.finish(batch, refused: [:]) }
            // Encoded in the task, outside its transaction: it runs beside the next batch's matching.
            let store = store, changes = batch.changes
            writing = (batch, Task { try await store.apply(changes) })
        }

        /// Waits for the last write and counts it.
        mutating func drain() async throws {
            guard let writing else { return }
            self.writing = nil
            importer.finish(writing.batch, refused: try await writing.write.value)
        }
    }

    /// Writes the site's profiles (or only the header, for the template) to a file.
    static func export(site: Site?, format: TableFormat, to url: URL, on db: any Database) async throws {
        let writer = try createTable(at: url, format: format, sheetName: "Client profiles")
        try writer.write(ProfileColumn.all.map(\.header))
        if let site {
            let store = SQLProfileStore(db: db, siteId: site.id!, organizationId: site.organizationId, actor: nil)
            try await store.forEachProfile { stored in
                try writer.write(CellText.exportRow(id: stored.id.uuidString, stored.profile))
            }
        }
        try writer.finish()
    }

    /// A file name for downloads: `<site>-client-profiles.csv`.
    static func fileName(site: Site?, format: TableFormat) -> String {
        let base =
            site.map { $0.name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce(into: "") { $0.append($1) } + "-client-profiles" }
            ?? "client-profiles-template"
        return "\(base).\(format.rawValue)"
    }

    static func temporaryFile(_ format: TableFormat) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tandem-profiles-\(UUID().uuidString).\(format.rawValue)")
    }

    /// The audit log's record of an import: counts only, the rows have their own events.
    struct ImportSummary: Encodable, Sendable {
        var rows, added, edited, deleted, unchanged, failed: Int

        init(_ report: ProfileImportReport) {
            rows = report.rows
            added = report.added
            edited = report.edited
            deleted = report.deleted
            unchanged = report.unchanged
            failed = report.failed
        }
    }
}

extension Request {
    /// Streams the request body to a temporary file without holding it in memory; refuses more than `limit` bytes.
    func spoolBody(to url: URL, limit: Int) async throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try await body.forEach(limit: limit) { buffer in try handle.write(contentsOf: buffer.readableBytesView) }
    }
}

extension Request.Body {
    /// The body's buffers in order, as they arrive; refuses more than `limit` bytes (413) when it gets there.
    func forEach(limit: Int, _ use: (ByteBuffer) async throws -> Void) async throws {
        var received = 0
        for try await buffer in self {
            received += buffer.readableBytes
            guard received <= limit else { throw TandemError.payloadTooLarge("the file is larger than \(limit / 1_048_576) MB") }
            try await use(buffer)
        }
    }
}
