import Fluent
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresKit
import Vapor

/// The token query's rows on PostgreSQL, kept so that a request with a known token skips that query: a round trip
/// that was about a quarter of each page's and each creation's cost (`Benchmarks/RESULTS.md`, seventeenth session).
///
/// A kept row is answered only while nothing it was read from can have changed unnoticed:
/// - this process forgets every row when one of its own write transactions ends (`Database.write`), before that
///   write's caller goes on, so a request after a change made here reads the change;
/// - every other writer (another instance, a command, psql) changes those tables under triggers that
///   `NOTIFY tandem_access` at commit (migration 074, `watchedTables`), and a connection of this process's own listens
///   and forgets every row on each notification: another instance answers with the old row at most until the
///   notification arrives, normally well under a millisecond after the commit;
/// - nothing is kept or answered while that connection is not listening, or when its heartbeat has not answered
///   lately (a connection that died without closing);
/// - a row is answered at most `maxAge` after it was read, never after its token expires.
///
/// A read that started before a row was forgotten is not kept (`generation`), so a row read before a change and
/// returned after the news of it cannot come back. `TANDEM_TOKEN_CACHE=off` turns the cache off.
final class TokenCache: DatabaseCompanion, @unchecked Sendable {
    static let channel = "tandem_access"
    static let applicationName = "tandem token cache"
    /// The tables the token query reads (`Tokens.ResolveTokenStatement`), each with a trigger that notifies.
    static let watchedTables = ["api_tokens", "resources", "security_levels", "resource_client_restrictions", "queue_members", "team_members"]
    static let maxAge: TimeAmount = .seconds(30)
    static let capacity = 10_000
    static let heartbeat: TimeAmount = .seconds(5)
    /// How long the listening connection may go unheard before nothing is answered from the cache (three heartbeats).
    static let silence: TimeAmount = .seconds(15)

    private struct Entry {
        let row: Tokens.TokenRow
        let keptAt: NIODeadline
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var generation: UInt64 = 0
        /// When the listening connection last showed it was alive; nil while it is not listening.
        var heardAt: NIODeadline?
    }

    private let state = NIOLockedValueBox(State())

    static func install(on app: Application, configuration: SQLPostgresConfiguration) {
        let cache = TokenCache()
        app.databases.middleware.use(cache, on: .psql)
        app.lifecycle.use(Listener(cache: cache, configuration: configuration.coreConfiguration))
    }

    /// The token query through the cache installed on the database, if any: a kept row when one may still be
    /// answered, else the query's (kept, when it may be).
    struct Lookup: TokenLookup {
        let reading: any TokenLookup

        func row(hash: String, now: Date, on db: any Database) async throws -> Tokens.TokenRow? {
            guard let cache = installed(on: db) else { return try await reading.row(hash: hash, now: now, on: db) }
            if let row = cache.row(hash: hash, now: now) { return row }
            let generation = cache.generation
            let row = try await reading.row(hash: hash, now: now, on: db)
            if let row, let generation { cache.keep(row, hash: hash, generation: generation) }
            return row
        }
    }

    /// The kept row for a token's hash, when it may still be answered.
    func row(hash: String, now: Date) -> Tokens.TokenRow? {
        state.withLockedValue { state in
            guard Self.listening(state), let entry = state.entries[hash] else { return nil }
            guard let expiresAt = entry.row.expiresAt, expiresAt > now, NIODeadline.now() - entry.keptAt < Self.maxAge else {
                state.entries[hash] = nil
                return nil
            }
            return entry.row
        }
    }

    /// Read before the token query and handed to `keep`; nil while nothing may be kept.
    var generation: UInt64? { state.withLockedValue { Self.listening($0) ? $0.generation : nil } }

    /// Keeps a row read by a query that started at `generation`, unless rows were forgotten since.
    func keep(_ row: Tokens.TokenRow, hash: String, generation: UInt64) {
        state.withLockedValue { state in
            guard Self.listening(state), state.generation == generation else { return }
            if state.entries.count >= Self.capacity { state.entries.removeAll() }
            state.entries[hash] = Entry(row: row, keptAt: .now())
        }
    }

    /// Forgets every kept row: something the token query reads may have changed.
    func forget() {
        state.withLockedValue { state in
            state.generation &+= 1
            state.entries.removeAll(keepingCapacity: true)
        }
    }

    /// A model of a watched table saved or deleted outside `write` (so outside a transaction, already committed) is
    /// news here at once, not only when its notification arrives.
    func handle(_ event: ModelEvent, _ model: any AnyModel, on db: any Database, chainingTo next: any AnyModelResponder) -> EventLoopFuture<Void> {
        next.handle(event, model, on: db).map {
            if Self.watchedTables.contains(type(of: model).schema) { self.forget() }
        }
    }

    /// Whether the listening connection answered within `silence`.
    private static func listening(_ state: State) -> Bool {
        guard let heardAt = state.heardAt else { return false }
        return NIODeadline.now() - heardAt < silence
    }

    /// Marks the connection as listening (`true`: it just answered) or gone, forgetting every row either way when its
    /// state changes: what was kept before it listened was kept without news.
    fileprivate func heard(_ alive: Bool) {
        state.withLockedValue { state in
            if alive, Self.listening(state) {
                state.heardAt = .now()
                return
            }
            state.heardAt = alive ? .now() : nil
            state.generation &+= 1
            state.entries.removeAll()
        }
    }

    /// Runs the listening connection from boot to shutdown, connecting again a second after it fails.
    struct Listener: LifecycleHandler {
        let cache: TokenCache
        let configuration: PostgresConnection.Configuration
        private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

        init(cache: TokenCache, configuration: PostgresConnection.Configuration) {
            self.cache = cache
            var configuration = configuration
            // So that operators (and the tests) tell it apart in pg_stat_activity.
            configuration.options.additionalStartupParameters.append(("application_name", TokenCache.applicationName))
            self.configuration = configuration
        }

        /// Synchronous, so that the in-memory tester's `boot()` starts it too.
        func didBoot(_ application: Application) throws {
            let logger = application.logger
            let eventLoop = application.eventLoopGroup.any()
            let listening = Task {
                var attempt = 0
                while !Task.isCancelled {
                    attempt += 1
                    do {
                        try await listen(on: eventLoop, id: attempt, logger: logger)
                    } catch {
                        if !Task.isCancelled {
                            logger.warning(
                                "token cache listener lost its connection; tokens are read from the database until it is back", metadata: ["error": "\(error)"])
                        }
                    }
                    cache.heard(false)
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            task.withLockedValue { $0 = listening }
        }

        func shutdownAsync(_ application: Application) async {
            let running = task.withLockedValue { task in
                defer { task = nil }
                return task
            }
            running?.cancel()
            await running?.value
        }

        private func listen(on eventLoop: any EventLoop, id: Int, logger: Logger) async throws {
            let connection = try await PostgresConnection.connect(on: eventLoop, configuration: configuration, id: id, logger: logger)
            do {
                try await connection.listen(on: TokenCache.channel) { notifications in
                    cache.heard(true)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await _ in notifications { cache.forget() }
                            throw ListenerEnded(reason: "the notifications ended")
                        }
                        group.addTask {
                            while true {
                                try await Task.sleep(for: .nanoseconds(TokenCache.heartbeat.nanoseconds))
                                _ = try await connection.query("SELECT 1", logger: logger).collect()
                                cache.heard(true)
                            }
                        }
                        // A heartbeat that never answers (a connection dead without closing) ends the connection, which
                        // fails the query it waits on.
                        group.addTask {
                            while true {
                                try await Task.sleep(for: .nanoseconds(TokenCache.heartbeat.nanoseconds))
                                if cache.generation == nil {
                                    try? await connection.close()
                                    throw ListenerEnded(reason: "the heartbeat went unanswered")
                                }
                            }
                        }
                        defer { group.cancelAll() }
                        try await group.next()
                    }
                }
            } catch {
                try? await connection.close()
                throw error
            }
            try? await connection.close()
        }
    }

    struct ListenerEnded: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }
}
