import FluentKit
import FluentSQLiteDriver
import NIOConcurrencyHelpers
import PostgresKit
import SQLKit
import SQLiteKit
import TandemCore
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
    /// they are given. A `write` called inside a body (on the database the body was given) joins the
    /// body's transaction: a service that writes can be called from a consumer's transaction.
    func write<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        if WriteScope.active { return try await body(self) }
        guard isSQLite else {
            defer { TokenCache.installed(on: self)?.forget() }  // whatever the transaction wrote, before its caller goes on
            return try await transaction { db in try await WriteScope.$active.withValue(true) { try await body(db) } }
        }
        guard let groupCommit = SQLiteGroupCommit.installed(on: self) else { throw GroupCommitMissing() }
        return try await groupCommit.run(body)
    }

    /// `write(body)` for a write that can also run together with others of its kind. On SQLite with
    /// group commit, the calls with the same `batch` that queue in one group (and are next to each
    /// other in it) run as one `batch.sqlite` over all their items, in one savepoint, on the group
    /// commit's own connection; if that throws, it is undone and each item runs alone through
    /// `batch.sqlite`. On PostgreSQL the calls that queue while a batch runs go through one
    /// `batch.postgres` (`PostgresBatcher`). Either way an error reaches only its caller. Elsewhere
    /// (or without a `postgres` run) this is `write(body)`. Not for use inside a transaction.
    func write<Item: Sendable, Output: Sendable>(
        batch: WriteBatch<Item, Output>, item: Item, _ body: @escaping @Sendable (any Database) async throws -> Output
    ) async throws -> Output {
        if WriteScope.active { return try await body(self) }
        if isSQLite, let groupCommit = SQLiteGroupCommit.installed(on: self) {
            return try await groupCommit.run(body, batch: batch, item: item)
        }
        if !isSQLite, let postgres = batch.postgres, let batcher = PostgresBatcher.installed(on: self) {
            return try await batcher.run(item, name: batch.name, postgres)
        }
        return try await write(body)
    }
}

/// Whether this task is running a `write` body, so that a `write` inside it joins that transaction.
enum WriteScope {
    @TaskLocal static var active = false
}

/// Writes of one kind that run together (`Database.write(batch:item:_:)`): each run gets the items
/// of concurrent calls and answers one output per item, in order; both must write the same rows
/// as the `body` given with each item (which runs where neither applies).
struct WriteBatch<Item: Sendable, Output: Sendable>: Sendable {
    let name: String
    /// On SQLite: synchronously on the group commit's thread, inside the group's transaction.
    let sqlite: @Sendable ([Item], SQLiteDirectConnection) throws -> [Output]
    /// On PostgreSQL: one statement (atomic, committed when it answers), outside any transaction.
    var postgres: (@Sendable ([Item], any PostgresDatabase) async throws -> [Output])? = nil
}

/// A batch run that did not answer one output per item.
struct WriteBatchError: Error, CustomStringConvertible {
    let name: String, items: Int, outputs: Int
    var description: String { "batch \(name) answered \(outputs) outputs for \(items) items" }
}

/// Something a database carries along for `write` to find (group commit, batcher), riding as a
/// pass-through model middleware because `write` only has a `Database`.
protocol DatabaseCompanion: AnyModelMiddleware {}

extension DatabaseCompanion {
    static func installed(on db: any Database) -> Self? {
        db.context.configuration.middleware.lazy.compactMap { $0 as? Self }.first
    }

    func handle(_ event: ModelEvent, _ model: any AnyModel, on db: any Database, chainingTo next: any AnyModelResponder) -> EventLoopFuture<Void> {
        next.handle(event, model, on: db)
    }
}

/// A SQLite database that `configure` did not set up: `write` runs only through group commit.
struct GroupCommitMissing: Error, CustomStringConvertible {
    var description: String { "SQLite writes need the group commit that configure installs" }
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
/// Batched writes (`WriteBatch`) do not go through Fluent: a run of them at the head of the queue
/// is one group on `SQLiteDirectConnection`, the whole transaction in one job on its thread. Other
/// bodies run on a SQLiteNIO connection. Groups still run one at a time, in queue order, so the two
/// connections never write at once.
///
/// It rides along as a (pass-through) model middleware of the SQLite database so that `write`,
/// which only has a `Database`, finds the group of the database it was called on.
final class SQLiteGroupCommit: DatabaseCompanion, @unchecked Sendable {
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
            let run: @Sendable ([any Sendable], SQLiteDirectConnection) throws -> [any Sendable]
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

    /// What happened so far in one group's transaction on the SQLiteNIO connection.
    private final class GroupState: @unchecked Sendable {
        /// Jobs whose writes are in the transaction; they finish after the COMMIT.
        var succeeded: [Job] = []
        /// Jobs before this index have started (finished, succeeded, or running now).
        var started = 0
        /// The error of the running body whose undoing failed and broke the group off.
        var bodyError: (any Error)?
    }

    private let writer: any Database
    private let batchWriter: SQLiteWriterThread
    /// The read connections of the same file (`SQLiteReaders`), riding along for reads to find.
    let readers: SQLiteReaders
    /// Whether the writer connection has its settings (`commit` runs one group at a time).
    private var tuned = false
    private let lock = NIOLock()
    private var queue: [Job] = []
    private var draining = false

    private init(writer: any Database, batchWriter: SQLiteWriterThread, readers: SQLiteReaders) {
        self.writer = writer
        self.batchWriter = batchWriter
        self.readers = readers
    }

    /// Sets up group commit for the SQLite file at `path`, used as `.sqlite`: a writer connection
    /// pool of its own, the batch writer's thread, the read connections, and the marker that
    /// `write` looks for. Call right after `databases.use`.
    static func install(on app: Application, path: String, clock: any WallClock, vault: Vault) {
        app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqliteWriter, isDefault: false)
        // Before `app.db(.sqliteWriter)`: a database takes its middleware when it is made.
        ClockCompanion.install(clock, on: app, databases: [.sqliteWriter])
        VaultCompanion.install(vault, on: app, databases: [.sqliteWriter])
        let batchWriter = SQLiteWriterThread(path: path)
        let readers = SQLiteReaders(path: path, count: System.coreCount)
        app.lifecycle.use(DirectConnectionsShutdown(thread: batchWriter, readers: readers))
        app.databases.middleware.use(SQLiteGroupCommit(writer: app.db(.sqliteWriter), batchWriter: batchWriter, readers: readers), on: .sqlite)
    }

    private struct DirectConnectionsShutdown: LifecycleHandler {
        let thread: SQLiteWriterThread
        let readers: SQLiteReaders
        func shutdownAsync(_ application: Application) async {
            await thread.shutdown()
            await readers.shutdown()
        }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        try await enqueue(body, batched: nil)
    }

    func run<T: Sendable, Item: Sendable>(
        _ body: @escaping @Sendable (any Database) async throws -> T, batch: WriteBatch<Item, T>, item: Item
    ) async throws -> T {
        try await enqueue(body) { box in
            Job.Batched(
                name: batch.name, item: item,
                run: { items, connection in try batch.sqlite(items.map { $0 as! Item }, connection) },
                deliver: { box.value = ($0 as! T) })
        }
    }

    private func enqueue<T: Sendable>(
        _ body: @escaping @Sendable (any Database) async throws -> T, batched: ((Box<T>) -> Job.Batched)?
    ) async throws -> T {
        let box = Box<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in box.value = try await WriteScope.$active.withValue(true) { try await body(db) } },
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

    /// Runs groups until the queue is empty. A group is the jobs at the head of the queue that are
    /// all batched or all not (up to `maxGroup`), so the queue's order is kept.
    private func drain() async {
        while true {
            let group: [Job] = lock.withLock {
                let batched = queue.first?.batched != nil
                let count = queue.prefix(Self.maxGroup).prefix { ($0.batched != nil) == batched }.count
                if count == 0 { draining = false }
                let group = Array(queue.prefix(count))
                queue.removeFirst(count)
                return group
            }
            guard let first = group.first else { return }
            if first.batched != nil {
                await commitBatched(group)
            } else {
                await commit(group)
            }
        }
    }

    /// One transaction for `group` on the SQLiteNIO connection. Every job is finished exactly once:
    /// with its own error when its body throws (after its savepoint is rolled back), otherwise after
    /// the COMMIT, with the COMMIT's error if that fails. When the transaction breaks off half-way
    /// (a savepoint statement fails, or a body's error ended the whole transaction), nothing of it
    /// is committed: the jobs that ran get the error, and those not run yet go back to the queue.
    private func commit(_ group: [Job]) async {
        let state = GroupState()
        do {
            try await writer.withConnection { connection in
                // Transaction statements straight to SQLite (no SQLKit serialization): they run per body.
                let sql = Statements(sqlite: connection as! any SQLiteDatabase)
                if !self.tuned {
                    // The writer's pool is one connection on one event loop; settings as `SQLiteDirectConnection`'s.
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
                        for job in group { try await self.alone(job, connection, sql, state) }
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
            requeue(group[state.started...])
            return
        }
        for job in state.succeeded { job.complete(nil) }
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

    private func requeue(_ jobs: ArraySlice<Job>) {
        guard !jobs.isEmpty else { return }
        lock.withLock { queue.insert(contentsOf: jobs, at: 0) }
    }

    /// What became of one job of a batched group.
    private enum Outcome: @unchecked Sendable {
        case wrote(any Sendable)
        case failed(any Error)
        case notRun
    }

    /// One transaction for a group of batched jobs, in one job on the batch writer's thread, with
    /// the same guarantees as `commit`: each run of consecutive jobs of one batch goes through
    /// `batch.run` in one savepoint; if that throws, it is undone and each of its jobs runs alone in
    /// a savepoint of its own, so only a failing item gets an error.
    private func commitBatched(_ group: [Job]) async {
        let batches = group.map { $0.batched! }
        let outcomes: [Outcome]
        do {
            outcomes = try await batchWriter.run { connection in Self.transaction(batches, on: connection) }
        } catch {
            // The thread is gone (shutdown) or the connection could not be opened.
            for job in group { job.complete(error) }
            return
        }
        for (job, (batched, outcome)) in zip(group, zip(batches, outcomes)) {
            switch outcome {
            case .wrote(let output):
                batched.deliver(output)
                job.complete(nil)
            case .failed(let error): job.complete(error)
            case .notRun: break
            }
        }
        requeue(group[...].filter { !$0.done }[...])
    }

    /// The batched group's transaction (on the batch writer's thread). Outputs are delivered only
    /// after the COMMIT; when the transaction breaks off, what ran gets the error and the rest is `notRun`.
    private static func transaction(_ batches: [Job.Batched], on connection: SQLiteDirectConnection) -> [Outcome] {
        var outcomes = [Outcome](repeating: .notRun, count: batches.count)
        /// Jobs before this index have run (or are running).
        var started = 0
        func run(_ range: Range<Int>) throws -> Result<[any Sendable], any Error> {
            try savepoint(connection) {
                let outputs = try batches[range.lowerBound].run(batches[range].map(\.item), connection)
                guard outputs.count == range.count else {
                    throw WriteBatchError(name: batches[range.lowerBound].name, items: range.count, outputs: outputs.count)
                }
                return outputs
            }
        }
        do {
            try connection.execute("BEGIN IMMEDIATE")
            do {
                while started < batches.count {
                    let name = batches[started].name
                    let batch = started..<(batches[started...].firstIndex { $0.name != name } ?? batches.endIndex)
                    if batch.count > 1 {
                        started = batch.upperBound
                        if case .success(let outputs) = try run(batch) {
                            for (index, output) in zip(batch, outputs) { outcomes[index] = .wrote(output) }
                            continue
                        }
                    }
                    for index in batch {
                        started = index + 1
                        switch try run(index..<index + 1) {
                        case .success(let outputs): outcomes[index] = .wrote(outputs[0])
                        case .failure(let error): outcomes[index] = .failed(error)
                        }
                    }
                }
                try connection.execute("COMMIT")
            } catch {
                _ = try? connection.execute("ROLLBACK")
                throw error
            }
        } catch {
            // Nothing of the group is written: what ran (even if it had succeeded) gets the error.
            for index in 0..<started {
                if case .failed = outcomes[index] { continue }
                outcomes[index] = .failed(error)
            }
        }
        return outcomes
    }

    /// `body` in a savepoint, undone when it throws (its error is the result); throws only when the
    /// savepoint statements themselves fail, which ends the transaction.
    private static func savepoint<T>(_ connection: SQLiteDirectConnection, _ body: () throws -> T) throws -> Result<T, any Error> {
        try connection.execute("SAVEPOINT tandem_write")
        do {
            let result = try body()
            try connection.execute("RELEASE tandem_write")
            return .success(result)
        } catch {
            try connection.execute("ROLLBACK TO tandem_write")
            try connection.execute("RELEASE tandem_write")
            return .failure(error)
        }
    }

}
