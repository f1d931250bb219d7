import FluentKit
import SQLKit

extension Database {
    var sql: any SQLDatabase { self as! any SQLDatabase }

    var isSQLite: Bool { sql.dialect.name == "sqlite" }

    /// A write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so a
    /// transaction that reads before it writes can never fail half-way on a busy snapshot.
    /// On SQLite, one writer at a time in this process: a second connection waiting for the write
    /// lock would spin in SQLite's busy handler and burn a core. Do not nest `write` calls.
    func write<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        guard isSQLite else { return try await transaction(body) }
        await SQLiteWriter.shared.acquire()
        do {
            let result = try await immediateTransaction(body)
            await SQLiteWriter.shared.release()
            return result
        } catch {
            await SQLiteWriter.shared.release()
            throw error
        }
    }

    private func immediateTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.sql.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(connection)
                try await connection.sql.raw("COMMIT").run()
                return result
            } catch {
                try? await connection.sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }
}

/// A FIFO async lock for SQLite write transactions (SQLite allows one writer per file anyway).
actor SQLiteWriter {
    static let shared = SQLiteWriter()

    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
