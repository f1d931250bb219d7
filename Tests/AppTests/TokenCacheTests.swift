import Fluent
import Foundation
import SQLKit
import TandemCore
import Testing
import VaporTesting

@testable import App

/// The token cache (PostgreSQL; README "Running several instances"): a token's row is kept after its first request,
/// and every change to what it was read from reaches the next requests, whoever made it.
@Suite struct TokenCacheTests {
    /// Waits up to five seconds for `condition`; whether it came true.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// The cache, once its listening connection is up; nil on SQLite, which keeps no token rows.
    static func listeningCache(_ t: TestApp) async throws -> TokenCache? {
        guard let cache = TokenCache.installed(on: t.db) else {
            #expect(TestDatabase.postgresURL == nil, "PostgreSQL runs with the token cache")
            return nil
        }
        #expect(try await eventually { cache.generation != nil }, "the cache's connection listens")
        return cache
    }

    static func kept(_ token: String, in cache: TokenCache, _ t: TestApp) -> Bool {
        cache.row(hash: Tokens.hash(token), now: t.db.now) != nil
    }

    static func titles(_ t: TestApp, as token: String) async throws -> Set<String> {
        Set(try await t.get("/api/v1/tickets?limit=50", as: token).json["items"].array.compactMap { $0["title"].string })
    }

    /// A change made by this instance (through the API) is seen by the very next request; one made by any other
    /// writer (here a statement outside `write`, as another instance or psql would send it) as soon as PostgreSQL's
    /// notification arrives. Without the notification the kept row would answer for `TokenCache.maxAge`.
    @Test func aKeptTokenFollowsEveryChangeToWhatItWasReadFrom() async throws {
        try await withApp { t in
            let contoso = try await t.organization("Contoso")
            let fabrikam = try await t.organization("Fabrikam")
            _ = try await t.ticket(contoso, "Contoso printer")
            _ = try await t.ticket(fabrikam, "Fabrikam printer")
            let (rickId, rick) = try await t.resource("rick", restrictions: [contoso])
            guard let cache = try await Self.listeningCache(t) else {
                #expect(try await Self.titles(t, as: rick) == ["Contoso printer"])
                return
            }
            #expect(try await Self.titles(t, as: rick) == ["Contoso printer"])
            #expect(Self.kept(rick, in: cache, t), "a read keeps the token's row")
            #expect(try await Self.titles(t, as: rick) == ["Contoso printer"])

            // Through this instance: the write forgets before it answers.
            expectStatus(try await t.patch("/api/v1/resources/\(rickId)", ["clientRestrictions": [.string(fabrikam)]]), .ok)
            #expect(!Self.kept(rick, in: cache, t))
            #expect(try await Self.titles(t, as: rick) == ["Fabrikam printer"])

            // From another writer, to each of the token query's tables (queue and team memberships have no field in
            // `/api/v1/me`; their triggers are the same function, checked below).
            let rickUUID = try #require(UUID(uuidString: rickId))
            let before = try await t.get("/api/v1/me", as: rick).json
            let changes: [(table: String, change: SQLQueryString, seen: @Sendable (Reply) -> Bool)] = [
                (
                    "resource_client_restrictions",
                    "UPDATE resource_client_restrictions SET organization_id = \(bind: try #require(UUID(uuidString: contoso))) WHERE resource_id = \(bind: rickUUID)",
                    { $0.json["clientRestrictions"] == [.string(contoso)] }
                ),
                (
                    "resources", "UPDATE resources SET first_name = 'Richard' WHERE id = \(bind: rickUUID)",
                    { $0.json["displayName"].string?.hasPrefix("Richard") == true }
                ),
                (
                    "security_levels",
                    "UPDATE security_levels SET permissions = \(bind: JSONColumn.encode(Permissions.nothing)) WHERE id = (SELECT security_level_id FROM resources WHERE id = \(bind: rickUUID))",
                    { $0.status == .ok && $0.json["permissions"] != before["permissions"] }
                ),
                ("api_tokens", "DELETE FROM api_tokens WHERE token_hash = \(bind: Tokens.hash(rick))", { $0.status == .unauthorized }),
            ]
            for (table, change, seen) in changes {
                expectStatus(try await t.get("/api/v1/me", as: rick), .ok)
                #expect(Self.kept(rick, in: cache, t), "kept before \(table) changes")
                try await t.db.sql.raw(change).run()
                #expect(try await Self.eventually { seen(try await t.get("/api/v1/me", as: rick)) }, "a change to \(table) is seen")
            }
            let watched = try await t.db.sql.raw("SELECT tgrelid::regclass::text AS watched FROM pg_trigger WHERE tgname LIKE '%_access_changed'").all()
                .map { try $0.decode(column: "watched", as: String.self) }
            #expect(Set(watched) == Set(TokenCache.watchedTables))
        }
    }

    /// When the listening connection is lost nothing is answered from the cache; it connects again and starts empty.
    @Test func aLostListenerStopsTheCacheUntilItIsBack() async throws {
        try await withApp { t in
            let (_, tess) = try await t.resource("tess")
            guard let cache = try await Self.listeningCache(t) else { return }
            expectStatus(try await t.get("/api/v1/me", as: tess), .ok)
            #expect(Self.kept(tess, in: cache, t))
            let generation = try #require(cache.generation)
            let ended = try await t.db.sql.raw(
                "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = \(bind: TokenCache.applicationName) AND datname = current_database()"
            ).all()
            #expect(ended.count == 1, "one listening connection")
            #expect(try await Self.eventually { (cache.generation ?? generation) != generation }, "the loss is noticed, and the connection back")
            #expect(!Self.kept(tess, in: cache, t), "nothing kept from before")
            #expect(try await Self.eventually { cache.generation != nil })
            expectStatus(try await t.get("/api/v1/me", as: tess), .ok)
            #expect(Self.kept(tess, in: cache, t))
        }
    }

    /// The triggers cover exactly the tables the token query reads.
    @Test func everyTableTheTokenQueryReadsIsWatched() throws {
        let tables = Set(
            Tokens.ResolveTokenStatement.sql.matches(of: /(?:FROM|JOIN)\s+([a-z_]+)/).map { String($0.output.1) })
        #expect(tables == Set(TokenCache.watchedTables))
    }
}
