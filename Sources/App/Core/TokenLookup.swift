import Fluent
import Foundation
import PostgresKit
import SQLiteKit
import TandemCore

// The token query, run on every authenticated request: one statement per database (the token,
// its resource with its security level and memberships), read straight from the driver's rows.

extension Tokens {
    /// The token query on SQLite; binds: the token's hash, now, the resource kind, true (`ResolveTokenStatement` on PostgreSQL).
    static let resolveSQL = """
        SELECT api_tokens.id, api_tokens.principal_id, api_tokens.principal_kind, api_tokens.kind, api_tokens.expires_at,
               resources.first_name, resources.last_name, resources.client_restricted, security_levels.id AS level_id, security_levels.permissions,
               (SELECT group_concat(organization_id) FROM resource_client_restrictions WHERE resource_id = resources.id) AS restricted_to,
               (SELECT group_concat(queue_id) FROM queue_members WHERE principal_id = resources.id) AS queue_ids,
               (SELECT group_concat(team_id || ':' || coalesce(access, '')) FROM team_members WHERE principal_id = resources.id) AS team_accesses
        FROM api_tokens
        LEFT JOIN resources ON api_tokens.principal_kind = ?3 AND resources.id = api_tokens.principal_id AND resources.active = ?4
        LEFT JOIN security_levels ON security_levels.id = resources.security_level_id
        WHERE api_tokens.token_hash = ?1 AND api_tokens.expires_at > ?2
        LIMIT 1
        """

    /// `resolveSQL` on PostgreSQL, prepared once per connection.
    struct ResolveTokenStatement: PostgresPreparedStatement {
        /// Fixed: the default (`String(reflecting:)`) is computed on every execution.
        static let name = "tandem-resolve-token"
        static let sql = """
            SELECT api_tokens.id, api_tokens.principal_id, api_tokens.principal_kind, api_tokens.kind, api_tokens.expires_at,
                   resources.first_name, resources.last_name, resources.client_restricted, security_levels.id AS level_id, security_levels.permissions,
                   (SELECT string_agg(organization_id::text, ',') FROM resource_client_restrictions WHERE resource_id = resources.id) AS restricted_to,
                   (SELECT string_agg(queue_id::text, ',') FROM queue_members WHERE principal_id = resources.id) AS queue_ids,
                   (SELECT string_agg(team_id::text || ':' || coalesce(access, ''), ',') FROM team_members WHERE principal_id = resources.id) AS team_accesses
            FROM api_tokens
            LEFT JOIN resources ON api_tokens.principal_kind = $3::text AND resources.id = api_tokens.principal_id AND resources.active = $4::boolean
            LEFT JOIN security_levels ON security_levels.id = resources.security_level_id
            WHERE api_tokens.token_hash = $1::text AND api_tokens.expires_at > $2::timestamptz
            LIMIT 1
            """
        let hash: String
        let now: Date

        func makeBindings() -> PostgresBindings {
            var binds = PostgresBindings(capacity: 4)
            binds.append(hash, context: .default)
            binds.append(now, context: .default)
            binds.append(PrincipalKind.resource.rawValue, context: .default)
            binds.append(true, context: .default)
            return binds
        }

        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }

    /// A row of the token query, from either database.
    struct TokenRow {
        var tokenId: UUID, principalId: UUID, principalKind: String, tokenKind: String, expiresAt: Date?
        var firstName: String?, lastName: String?, clientRestricted: Bool?, levelId: UUID?, permissions: String?
        var restrictedTo: String?, queueIds: String?, teamAccesses: String?

        init(sqlite row: some SQLiteColumns) throws {
            tokenId = try SQLiteDirect.uuid(row, "id")
            principalId = try SQLiteDirect.uuid(row, "principal_id")
            principalKind = try SQLiteDirect.text(row, "principal_kind")
            tokenKind = try SQLiteDirect.text(row, "kind")
            expiresAt = row.column("expires_at").flatMap(Date.init(sqliteData:))
            firstName = try SQLiteDirect.optionalText(row, "first_name")
            lastName = try SQLiteDirect.optionalText(row, "last_name")
            clientRestricted = row.column("client_restricted")?.bool
            levelId = try SQLiteDirect.optionalText(row, "level_id") == nil ? nil : SQLiteDirect.uuid(row, "level_id")
            permissions = try SQLiteDirect.optionalText(row, "permissions")
            restrictedTo = try SQLiteDirect.optionalText(row, "restricted_to")
            queueIds = try SQLiteDirect.optionalText(row, "queue_ids")
            teamAccesses = try SQLiteDirect.optionalText(row, "team_accesses")
        }

        init(postgres row: PostgresRow) throws {
            let cells = row.makeRandomAccess()
            tokenId = try cells[0].decode(UUID.self)
            principalId = try cells[1].decode(UUID.self)
            principalKind = try cells[2].decode(String.self)
            tokenKind = try cells[3].decode(String.self)
            expiresAt = try cells[4].decode(Date.self)
            firstName = try cells[5].decode(String?.self)
            lastName = try cells[6].decode(String?.self)
            clientRestricted = try cells[7].decode(Bool?.self)
            levelId = try cells[8].decode(UUID?.self)
            permissions = try cells[9].decode(String?.self)
            restrictedTo = try cells[10].decode(String?.self)
            queueIds = try cells[11].decode(String?.self)
            teamAccesses = try cells[12].decode(String?.self)
        }
    }
}

/// The token query per database: the one place `resolve` asks which it runs on.
protocol TokenLookup: Sendable {
    func row(hash: String, now: Date, on db: any Database) async throws -> Tokens.TokenRow?
}

/// SQLite: on a read connection of its own (`SQLiteReaders`), or on the transaction's connection inside one.
struct SQLiteTokenLookup: TokenLookup {
    func row(hash: String, now: Date, on db: any Database) async throws -> Tokens.TokenRow? {
        let binds: [SQLiteData] = [.text(hash), .date(now), .text(PrincipalKind.resource.rawValue), .boolean(true)]
        if let readers = SQLiteDirect.readers(db) {
            return try await readers.read { connection in
                var found: Tokens.TokenRow?
                try connection.query(Tokens.resolveSQL, binds) { row in found = try found ?? Tokens.TokenRow(sqlite: row) }
                return found
            }
        }
        guard let sqlite = SQLiteDirect.database(db) else { throw TandemError.conflict("the SQLite token lookup runs on SQLite only") }
        return try await sqlite.query(Tokens.resolveSQL, binds).first.map(Tokens.TokenRow.init(sqlite:))
    }
}

/// PostgreSQL: `ResolveTokenStatement`, prepared once per connection (its rows kept by `TokenCache.Lookup`).
struct PostgresTokenLookup: TokenLookup {
    func row(hash: String, now: Date, on db: any Database) async throws -> Tokens.TokenRow? {
        guard let postgres = PostgresDirect.database(db) else { throw TandemError.conflict("the PostgreSQL token lookup runs on PostgreSQL only") }
        return try await PostgresDirect.execute(Tokens.ResolveTokenStatement(hash: hash, now: now), on: postgres).first
            .map(Tokens.TokenRow.init(postgres:))
    }
}
