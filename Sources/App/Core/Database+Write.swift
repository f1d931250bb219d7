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

    /// `write(body)` for a write that can also run together with others of its kind: on SQLite with
    /// group commit, the calls with the same `batch` that queue in one group (and are next to each
    /// other in it) run as one `batch.run` over all their items, in one savepoint; if that throws,
    /// it is undone and each call runs its own `body` instead, so an error reaches only its caller.
    /// Elsewhere this is `write(body)`.
    func write<Item: Sendable, Output: Sendable>(
        batch: SQLiteBatch<Item, Output>, item: Item, _ body: @escaping @Sendable (any Database) async throws -> Output
    ) async throws -> Output {
        guard isSQLite, let groupCommit = SQLiteGroupCommit.installed(on: self) else { return try await write(body) }
        return try await groupCommit.run(body, batch: batch, item: item)
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

/// Writes of one kind that a SQLite commit group runs together (`Database.write(batch:item:_:)`):
/// `run` gets the items of consecutive calls and answers one output per item, in order.
struct SQLiteBatch<Item: Sendable, Output: Sendable>: Sendable {
    let name: String
    let run: @Sendable ([Item], any Database) async throws -> [Output]
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
        let batched: Batched?
        /// Set by `complete`; only the group's task reads and writes it.
        var done = false

        /// The job's part in a batch: its item, the batch (type-erased), and where its output goes.
        struct Batched {
            let name: String
            let item: any Sendable
            let run: @Sendable ([any Sendable], any Database) async throws -> [any Sendable]
            let deliver: @Sendable (any Sendable) -> Void
        }

        init(run: @escaping @Sendable (any Database) async throws -> Void, finish: @escaping @Sendable ((any Error)?) -> Void, batched: Batched?) {
            self.run = run
            self.finish = finish
            self.batched = batched
        }

        func complete(_ error: (any Error)?) {
            done = true
            finish(error)
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
        /// Jobs whose writes are in the transaction; they finish after the COMMIT.
        var succeeded: [Job] = []
        /// Jobs before this index have started (finished, succeeded, or running now).
        var started = 0
        /// The error of the running body (or batch) whose undoing failed and broke the group off.
        var bodyError: (any Error)?
    }

    private let writer: any Database
    /// Whether the writer connection has its settings (`commit` runs one group at a time).
    private var tuned = false
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
        try await enqueue(body, batched: nil)
    }

    func run<T: Sendable, Item: Sendable>(
        _ body: @escaping @Sendable (any Database) async throws -> T, batch: SQLiteBatch<Item, T>, item: Item
    ) async throws -> T {
        try await enqueue(body) { box in
            Job.Batched(
                name: batch.name, item: item,
                run: { items, db in try await batch.run(items.map { $0 as! Item }, db) },
                deliver: { box.value = ($0 as! T) })
        }
    }

    private func enqueue<T: Sendable>(
        _ body: @escaping @Sendable (any Database) async throws -> T, batched: ((Box<T>) -> Job.Batched)?
    ) async throws -> T {
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
                },
                batched: batched?(box))
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
                let sql = Statements(sqlite: connection as! any SQLiteDatabase)
                if !self.tuned {
                    // The writer's pool is one connection on one event loop. A page cache of 32 MB (default 2 MB)
                    // and statement journals in memory: an import batch otherwise spills pages
                    // mid-transaction and writes its statement journal to a temporary file.
                    try await sql.raw("PRAGMA cache_size = -32768").run()
                    try await sql.raw("PRAGMA temp_store = MEMORY").run()
                    self.tuned = true
                }
                try await sql.raw("BEGIN IMMEDIATE").run()
                do {
                    if group.count == 1 {
                        // Alone: no savepoint needed; a failing body rolls back the transaction.
                        state.started = 1
                        do {
                            try await group[0].run(connection)
                        } catch {
                            try? await sql.raw("ROLLBACK").run()
                            group[0].complete(error)
                            return
                        }
                        state.succeeded.append(group[0])
                    } else {
                        while state.started < group.count {
                            let run = Self.batchRun(in: group, from: state.started)
                            if run.count > 1, try await self.batch(group[run], connection, sql, state) { continue }
                            for _ in run { try await self.alone(group[state.started], connection, sql, state) }
                        }
                    }
                    try await sql.raw("COMMIT").run()
                } catch {
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
            }
        } catch {
            if state.started == 0 {
                // BEGIN (or the first SAVEPOINT) failed: nothing can run now; fail them all rather than retry forever.
                for job in group { job.complete(error) }
                return
            }
            let succeeded = Set(state.succeeded.map { ObjectIdentifier($0) })
            for job in group[..<state.started] where !job.done {
                // The group's writes are gone: those that succeeded get the transaction's error; the
                // one running when it broke off gets its own error if it had one.
                job.complete(succeeded.contains(ObjectIdentifier(job)) ? error : state.bodyError ?? error)
            }
            if state.started < group.count {
                let notRun = group[state.started...]
                lock.withLock { queue.insert(contentsOf: notRun, at: 0) }
            }
            return
        }
        for job in state.succeeded { job.complete(nil) }
    }

    /// The jobs from `start` that can run as one batch: consecutive, of the same batch (at least the job at `start`).
    private static func batchRun(in group: [Job], from start: Int) -> Range<Int> {
        guard let name = group[start].batched?.name else { return start ..< start + 1 }
        var end = start + 1
        while end < group.count, group[end].batched?.name == name { end += 1 }
        return start ..< end
    }

    /// One job in its own savepoint.
    private func alone(_ job: Job, _ connection: any Database, _ sql: Statements, _ state: GroupState) async throws {
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
            job.complete(error)
            return
        }
        try await sql.raw("RELEASE tandem_write").run()
        state.succeeded.append(job)
    }

    /// `jobs` through their batch in one savepoint; false (with the savepoint undone and the jobs
    /// not started) when the batch threw, so that each runs alone next.
    private func batch(_ jobs: ArraySlice<Job>, _ connection: any Database, _ sql: Statements, _ state: GroupState) async throws -> Bool {
        let batched = jobs.map { $0.batched! }
        try await sql.raw("SAVEPOINT tandem_write").run()
        state.started = jobs.endIndex
        do {
            let outputs = try await batched[0].run(batched.map(\.item), connection)
            guard outputs.count == jobs.count else { throw BatchError(name: batched[0].name, items: jobs.count, outputs: outputs.count) }
            for (job, output) in zip(batched, outputs) { job.deliver(output) }
        } catch {
            state.bodyError = error
            try await sql.raw("ROLLBACK TO tandem_write").run()
            try await sql.raw("RELEASE tandem_write").run()
            state.bodyError = nil
            state.started = jobs.startIndex
            return false
        }
        try await sql.raw("RELEASE tandem_write").run()
        state.succeeded.append(contentsOf: jobs)
        return true
    }

    struct BatchError: Error, CustomStringConvertible {
        let name: String, items: Int, outputs: Int
        var description: String { "batch \(name) answered \(outputs) outputs for \(items) items" }
    }
}
