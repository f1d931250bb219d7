import FluentKit
import FluentSQLiteDriver
import NIOConcurrencyHelpers
import SQLiteKit
import SQLKit
import Vapor

extension Database {
    var sql: any SQLDatabase { self as! any SQLDatabase }

    var isSQLite: Bool { sql.dialect.name == "sqlite" }

    /// A write transaction: `body` runs in a transaction, and `write` returns only after that
    /// transaction has committed (durably: SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit`).
    ///
    /// On PostgreSQL each call is its own transaction. On SQLite, which has one writer per file,
    /// concurrent calls are committed in groups (`SQLiteGroupCommit`): each body runs in its own
    /// savepoint of a shared `BEGIN IMMEDIATE` transaction, so a body that throws undoes only its own
    /// changes and gets its own error, and one COMMIT (one fsync) makes the whole group durable
    /// before any caller resumes. A body sees the writes of the bodies before it in its group; if
    /// the COMMIT fails, every body of the group gets that error. Bodies must use only the database
    /// they are given, and do not nest `write` calls.
    func write<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        guard isSQLite else { return try await transaction(body) }
        if let groupCommit = SQLiteGroupCommit.installed(on: self) {
            return try await groupCommit.run(body)
        }
        // Without group commit (a database not set up by `configure`): one writer at a time.
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

extension DatabaseID {
    /// The SQLite connection that runs `write` transactions (group commit), apart from the read pool.
    static let sqliteWriter = DatabaseID(string: "sqlite-writer")
}

/// Group commit for SQLite: `Database.write` bodies queue here, and one task at a time runs what has
/// queued (up to `maxGroup`) in one `BEGIN IMMEDIATE … COMMIT` on a connection of its own, each body
/// between `SAVEPOINT` and `RELEASE` (`ROLLBACK TO` when it throws). Callers resume after the COMMIT.
///
/// SQLite commits one transaction at a time, each with an fsync (`synchronous=FULL`); grouping
/// turns N fsyncs into one while every caller still returns only after its write is durable.
///
/// It rides along as a (pass-through) model middleware of the SQLite database so that `write`,
/// which only has a `Database`, finds the group of the database it was called on.
final class SQLiteGroupCommit: AnyModelMiddleware, @unchecked Sendable {
    static let maxGroup = 128

    /// One queued body; `run` keeps the body's result, `finish` resumes the caller exactly once.
    private final class Job: @unchecked Sendable {
        let run: @Sendable (any Database) async throws -> Void
        let finish: @Sendable ((any Error)?) -> Void

        init(run: @escaping @Sendable (any Database) async throws -> Void, finish: @escaping @Sendable ((any Error)?) -> Void) {
            self.run = run
            self.finish = finish
        }
    }

    /// A value handed from the group task to the caller; written before `finish`, read after.
    private final class Box<T>: @unchecked Sendable {
        var value: T?
    }

    private struct Statements {
        let sqlite: any SQLiteDatabase
        struct Statement {
            let sqlite: any SQLiteDatabase
            let text: String
            func run() async throws { _ = try await sqlite.query(text, []) }
        }
        func raw(_ text: String) -> Statement { Statement(sqlite: sqlite, text: text) }
    }

    /// What happened so far in one group's transaction.
    private final class GroupState: @unchecked Sendable {
        var succeeded: [Job] = []
        /// Jobs finished inside the transaction (their bodies threw and were rolled back).
        var finished = 0
        /// Jobs whose body has started.
        var started = 0
        /// The error of the body being undone when the group broke off.
        var bodyError: (any Error)?
    }

    private let writer: any Database
    private let lock = NIOLock()
    private var queue: [Job] = []
    private var draining = false

    private init(writer: any Database) {
        self.writer = writer
    }

    /// Sets up group commit for the SQLite file at `path`, used as `.sqlite`: a writer connection
    /// pool of its own, and the marker that `write` looks for. Call right after `databases.use`.
    static func install(on app: Application, path: String) {
        app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqliteWriter, isDefault: false)
        app.databases.middleware.use(SQLiteGroupCommit(writer: app.db(.sqliteWriter)), on: .sqlite)
    }

    static func installed(on db: any Database) -> SQLiteGroupCommit? {
        for middleware in db.context.configuration.middleware {
            if let groupCommit = middleware as? SQLiteGroupCommit { return groupCommit }
        }
        return nil
    }

    func handle(_ event: ModelEvent, _ model: any AnyModel, on db: any Database, chainingTo next: any AnyModelResponder) -> EventLoopFuture<Void> {
        next.handle(event, model, on: db)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        let box = Box<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in box.value = try await body(db) },
                finish: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else {
                        continuation.resume(returning: box.value!)
                    }
                })
            let start = lock.withLock {
                queue.append(job)
                if draining { return false }
                draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Runs groups until the queue is empty.
    private func drain() async {
        while true {
            let group: [Job] = lock.withLock {
                let count = min(queue.count, Self.maxGroup)
                if count == 0 { draining = false }
                let group = Array(queue.prefix(count))
                queue.removeFirst(count)
                return group
            }
            if group.isEmpty { return }
            await commit(group)
        }
    }

    /// One transaction for `group`. Every job is finished exactly once: with its own error when its
    /// body throws (after its savepoint is rolled back), otherwise after the COMMIT, with the
    /// COMMIT's error if that fails. When the transaction breaks off half-way (a savepoint statement
    /// fails, or a body's error ended the whole transaction), nothing of it is committed: the jobs
    /// that ran get the error, and those not run yet go back to the queue.
    private func commit(_ group: [Job]) async {
        let state = GroupState()
        do {
            try await writer.withConnection { connection in
                // Transaction statements straight to SQLite (no SQLKit serialization): they run per body.
                let sqlite = connection as! any SQLiteDatabase
                let sql = Statements(sqlite: sqlite)
                try await sql.raw("BEGIN IMMEDIATE").run()
                do {
                    if group.count == 1 {
                        // Alone: no savepoint needed; a failing body rolls back the transaction.
                        state.started = 1
                        do {
                            try await group[0].run(connection)
                        } catch {
                            try? await sql.raw("ROLLBACK").run()
                            state.finished = 1
                            group[0].finish(error)
                            return
                        }
                        state.succeeded.append(group[0])
                    } else {
                        for job in group {
                            try await sql.raw("SAVEPOINT tandem_write").run()
                            state.started += 1
                            do {
                                try await job.run(connection)
                            } catch {
                                state.bodyError = error
                                // Throws (and breaks the group off) if the body's error ended the whole transaction.
                                try await sql.raw("ROLLBACK TO tandem_write").run()
                                try await sql.raw("RELEASE tandem_write").run()
                                state.bodyError = nil
                                state.finished += 1
                                job.finish(error)
                                continue
                            }
                            try await sql.raw("RELEASE tandem_write").run()
                            state.succeeded.append(job)
                        }
                    }
                    try await sql.raw("COMMIT").run()
                } catch {
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
            }
        } catch {
            for job in state.succeeded { job.finish(error) }
            if state.started == 0 {
                // BEGIN (or the first SAVEPOINT) failed: nothing can run now; fail them all rather than retry forever.
                for job in group { job.finish(error) }
                return
            }
            // The job that was running when the group broke off (its body, or its savepoint statements).
            if state.started > state.succeeded.count + state.finished { group[state.started - 1].finish(state.bodyError ?? error) }
            if state.started < group.count {
                let notRun = group[state.started...]
                lock.withLock { queue.insert(contentsOf: notRun, at: 0) }
            }
            return
        }
        for job in state.succeeded { job.finish(nil) }
    }
}
