import Fluent
import Foundation
import SQLKit

/// Where attachment bytes live, apart from the rows that describe them.
protocol BlobStore: Sendable {
    /// Stores bytes durably before returning; `db` is the caller's transaction.
    func put(_ data: Data, key: String, on db: any Database) async throws
    func get(_ key: String, on db: any Database) async throws -> Data?
    func delete(_ key: String, on db: any Database) async throws
    /// Calls `body` with the keys of the bytes stored before `cutoff` (what `BlobSweep` asks about), at most `chunk`
    /// at a time, never holding them all: a store of a million attachments is read a page at a time. `body` may
    /// delete the keys it is given.
    func forEachKeyChunk(storedBefore cutoff: Date, chunk: Int, on db: any Database, _ body: ([String]) async throws -> Void) async throws
}

/// Files in a directory: the default for one instance.
struct DirectoryBlobStore: BlobStore {
    let directory: URL

    func put(_ data: Data, key: String, on db: any Database) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent(key)
        let temporary = directory.appendingPathComponent(".\(key).tmp")
        FileManager.default.createFile(atPath: temporary.path, contents: nil)
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.write(contentsOf: data)
        // Flushed to disk before the row that points at it is committed.
        try handle.synchronize()
        try handle.close()
        // rename(2) replaces atomically; FileManager.replaceItemAt fails on Linux when the target does not exist yet.
        guard rename(temporary.path, target.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        // When it was stored, on the application's clock (the sweep's question).
        try FileManager.default.setAttributes([.modificationDate: db.now], ofItemAtPath: target.path)
        // The rename is a change of the directory: flushed too, or a power cut could keep the row and lose the name.
        let folder = open(directory.path, O_RDONLY | O_DIRECTORY)
        guard folder >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(folder) }
        guard fsync(folder) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    func get(_ key: String, on db: any Database) async throws -> Data? {
        FileManager.default.contents(atPath: directory.appendingPathComponent(key).path)
    }

    func delete(_ key: String, on db: any Database) async throws {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(key))
    }

    /// Reads the directory as it goes (`readdir`); also removes the temporary files of writes that never finished (a
    /// process killed between write and rename).
    func forEachKeyChunk(storedBefore cutoff: Date, chunk: Int, on db: any Database, _ body: ([String]) async throws -> Void) async throws {
        guard
            let files = FileManager.default.enumerator(
                at: directory, includingPropertiesForKeys: [.contentModificationDateKey], options: [.skipsSubdirectoryDescendants])
        else { return }
        var keys: [String] = []
        while let file = files.nextObject() as? URL {
            guard let stored = try? file.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate, stored < cutoff else { continue }
            let name = file.lastPathComponent
            if name.hasPrefix(".") {
                if name.hasSuffix(".tmp") { try? FileManager.default.removeItem(at: file) }
                continue
            }
            keys.append(name)
            if keys.count == chunk {
                try await body(keys)
                keys.removeAll(keepingCapacity: true)
            }
        }
        if !keys.isEmpty { try await body(keys) }
    }
}

/// Rows in the `blobs` table: for several instances sharing PostgreSQL, and atomic with the row.
struct DatabaseBlobStore: BlobStore {
    func put(_ data: Data, key: String, on db: any Database) async throws {
        try await db.sql.insert(into: "blobs").columns("key", "data", "stored_at").values(SQLBind(key), SQLBind(data), SQLBind(db.now)).run()
    }

    func get(_ key: String, on db: any Database) async throws -> Data? {
        try await db.sql.select().column("data").from("blobs").where("key", .equal, key).first()?.decode(column: "data", as: Data.self)
    }

    func delete(_ key: String, on db: any Database) async throws {
        try await db.sql.delete(from: "blobs").where("key", .equal, key).run()
    }

    /// In key order after the last key seen (the primary key's index), so keys `body` deletes move nothing. Rows
    /// stored before the sweep's column was added have no time, and count as old.
    func forEachKeyChunk(storedBefore cutoff: Date, chunk: Int, on db: any Database, _ body: ([String]) async throws -> Void) async throws {
        var after = ""
        while true {
            let keys = try await db.sql.select().column("key").from("blobs").where("key", .greaterThan, SQLBind(after))
                .where(group: { $0.where("stored_at", .lessThan, SQLBind(cutoff)).orWhere("stored_at", .is, SQLLiteral.null) })
                .orderBy("key").limit(chunk).all(decoding: KeyRow.self).map(\.key)
            guard let last = keys.last else { return }
            try await body(keys)
            guard keys.count == chunk else { return }
            after = last
        }
    }

    private struct KeyRow: Decodable { let key: String }
}
