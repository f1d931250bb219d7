import Fluent
import Foundation
import SQLKit

/// Removes stored bytes nothing points at: an attachment whose transaction failed after its file was written (the
/// directory store writes the file first, so the row never points at nothing), or the pieces of an import upload
/// whose job was never recorded (a process killed between them). Once an hour, on one instance; bytes younger than
/// `grace` are left alone, since their row may still be on its way (a slow client's upload can take an hour).
enum BlobSweep {
    static let name = "blob-sweep"
    static let interval: TimeInterval = 3600
    static let grace: TimeInterval = 24 * 3600

    /// One run; answers how many keys it removed, nil when it is not yet time or another instance runs it.
    @discardableResult
    static func run(on db: any Database, blobs: any BlobStore, interval: TimeInterval = interval, chunk: Int = 500) async throws -> Int? {
        let now = db.now
        guard try await PeriodicTask.claim(name, interval: interval, now: now, on: db) else { return nil }
        var removed = 0
        try await blobs.forEachKeyChunk(storedBefore: now.addingTimeInterval(-grace), chunk: chunk, on: db) { keys in
            let kept = try await referenced(keys, on: db)
            let orphans = keys.filter { !kept.contains($0) }
            guard !orphans.isEmpty else { return }
            try await db.write { db in
                for key in orphans { try await blobs.delete(key, on: db) }
            }
            removed += orphans.count
        }
        return removed
    }

    /// The keys an attachment, or an import job's upload (`ImportUpload.key`: `<upload key>-<piece>`), points at.
    static func referenced(_ keys: [String], on db: any Database) async throws -> Set<String> {
        var kept = Set(
            try await db.sql.select().column("blob_key").from(Attachment.schema).where("blob_key", .in, SQLBind.group(keys)).all()
                .map { try $0.decode(column: "blob_key", as: String.self) })
        let uploads = Dictionary(grouping: keys, by: ImportUpload.upload(of:)).filter { $0.key != nil }
        if !uploads.isEmpty {
            let known = try await db.sql.select().column("upload_key").from(ImportJob.schema)
                .where("upload_key", .in, SQLBind.group(uploads.keys.compactMap { $0 })).all().map { try $0.decode(column: "upload_key", as: String.self) }
            for upload in known { kept.formUnion(uploads[upload] ?? []) }
        }
        return kept
    }
}
