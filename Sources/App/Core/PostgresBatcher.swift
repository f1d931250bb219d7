import FluentKit
import NIOConcurrencyHelpers
import PostgresKit
import TandemCore
import Vapor

/// Batched writes on PostgreSQL (`Database.write(batch:item:_:)` with a batch that has a `postgres`
/// run): calls that arrive while a batch statement is running queue, and the next run takes all of
/// them (up to `maxGroup`) in one statement, which is one transaction and one WAL flush. A call
/// returns only after its statement has committed. If a run throws, each of its items runs alone,
/// so an error reaches only its own caller.
///
/// The queue holds only calls in flight in this process (each waiting for its answer); nothing is
/// acknowledged before the database has it, so several instances can share one database.
///
/// It rides along as a (pass-through) model middleware of the PostgreSQL database, as
/// `SQLiteGroupCommit` does for SQLite.
final class PostgresBatcher: DatabaseCompanion, @unchecked Sendable {
    static let maxGroup = 256

    private struct Job {
        let name: String
        let item: any Sendable
        let run: @Sendable ([any Sendable], any PostgresDatabase) async throws -> [any Sendable]
        let finish: @Sendable (Result<any Sendable, any Error>) -> Void
    }

    private let database: any Database
    private let lock = NIOLock()
    private var queue: [Job] = []
    private var draining = false

    private init(database: any Database) {
        self.database = database
    }

    static func install(on app: Application) {
        app.databases.middleware.use(PostgresBatcher(database: app.db(.psql)), on: .psql)
    }

    func run<Item: Sendable, Output: Sendable>(
        _ item: Item, name: String, _ run: @escaping @Sendable ([Item], any PostgresDatabase) async throws -> [Output]
    ) async throws -> Output {
        let output = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let job = Job(
                name: name, item: item,
                run: { items, db in try await run(items.map { $0 as! Item }, db) },
                finish: { continuation.resume(with: $0) })
            let start = lock.withLock {
                queue.append(job)
                if draining { return false }
                draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
        return output as! Output
    }

    /// Runs groups until the queue is empty; a group is the jobs of one batch at the head of the queue.
    private func drain() async {
        while true {
            let group: [Job] = lock.withLock {
                let name = queue.first?.name
                let count = queue.prefix(Self.maxGroup).prefix { $0.name == name }.count
                if count == 0 { draining = false }
                let group = Array(queue.prefix(count))
                queue.removeFirst(count)
                return group
            }
            if group.isEmpty { return }
            await commit(group)
        }
    }

    private func commit(_ group: [Job]) async {
        guard let postgres = database as? any PostgresDatabase else {
            for job in group { job.finish(.failure(TandemError.conflict("PostgreSQL batch on another database"))) }
            return
        }
        if group.count > 1, let outputs = try? await group[0].run(group.map(\.item), postgres), outputs.count == group.count {
            for (job, output) in zip(group, outputs) { job.finish(.success(output)) }
            return
        }
        // Alone or after the group's statement failed (and wrote nothing): one statement per job.
        await withTaskGroup(of: Void.self) { tasks in
            for job in group {
                tasks.addTask {
                    do {
                        let outputs = try await job.run([job.item], postgres)
                        guard let output = outputs.first, outputs.count == 1 else {
                            throw WriteBatchError(name: job.name, items: 1, outputs: outputs.count)
                        }
                        job.finish(.success(output))
                    } catch {
                        job.finish(.failure(error))
                    }
                }
            }
        }
    }
}
