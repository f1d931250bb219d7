import Fluent
import SQLKit

/// References (SPEC §9): Markdown documents of a site or global (no site, no organization), their tags
/// (one row per tag, for `?tag=`), and full-text search over the documentation: references, the vault's
/// entries (name, username, URL, notes; never the secret) and each site's network information (the
/// document's text values), kept in `search_documents` by triggers as tickets and contacts are.
struct CreateReferences: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Reference.schema)
            .id()
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .cascade))
            .field("site_id", .uuid, .references(Site.schema, "id", onDelete: .cascade))
            .field("title", .string, .required)
            .field("body", .string, .required)
            .field("tags", .string, .required)
            .field("version", .int, .required)
            .field("author_id", .uuid, .required)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        try await database.schema(ReferenceTag.schema)
            .field("tag", .string, .required)
            .field("reference_id", .uuid, .required, .references(Reference.schema, "id", onDelete: .cascade))
            .compositeIdentifier(over: "tag", "reference_id")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX reference_documents_site ON reference_documents (site_id, title)").run()
        try await sql.raw("CREATE INDEX reference_tags_reference ON reference_tags (reference_id)").run()
        for statement in database.isSQLite ? Self.sqlite : Self.postgres { try await sql.raw(SQLQueryString(statement)).run() }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if database.isSQLite {
            for trigger in Self.sqliteTriggers { try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS \(trigger)")).run() }
        } else {
            for table in ["reference_documents", "site_credentials", "site_network"] {
                try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS search_\(table) ON \(table)")).run()
                try await sql.raw(SQLQueryString("DROP FUNCTION IF EXISTS tandem_search_\(table)()")).run()
            }
        }
        try await sql.raw("DELETE FROM search_documents WHERE kind IN ('reference', 'credential', 'network')").run()
        try await database.schema(ReferenceTag.schema).delete()
        try await database.schema(Reference.schema).delete()
    }

    static let columns = CreateSearchIndex.columns

    static func referenceValues(_ row: String) -> String { "'reference', \(row).id, NULL, NULL, \(row).title, \(row).body || ' ' || \(row).tags" }
    static func credentialValues(_ row: String) -> String {
        "'credential', \(row).id, NULL, NULL, \(row).name, COALESCE(\(row).username, '') || ' ' || COALESCE(\(row).url, '') || ' ' || COALESCE(\(row).notes, '')"
    }
    /// The network document's string values, space-separated (not its keys: "name" would match every site).
    static func networkValues(_ row: String, sqlite: Bool) -> String {
        let text =
            sqlite
            ? "(SELECT COALESCE(group_concat(value, ' '), '') FROM json_tree(\(row).document) WHERE type = 'text')"
            : "(SELECT COALESCE(string_agg(v #>> '{}', ' '), '') FROM jsonb_path_query(\(row).document::jsonb, 'strict $.** ? (@.type() == \"string\")') AS v)"
        return "'network', \(row).site_id, NULL, NULL, 'Network information', \(text)"
    }

    static let sqliteTriggers = [
        "search_references_insert", "search_references_update", "search_references_delete", "search_credentials_insert", "search_credentials_update",
        "search_credentials_delete", "search_network_insert", "search_network_update", "search_network_delete",
    ]

    /// An insert, update and delete trigger for one source table (SQLite): the update replaces the document.
    static func triggers(_ name: String, table: String, key: String, values: (String) -> String) -> [String] {
        [
            "CREATE TRIGGER search_\(name)_insert AFTER INSERT ON \(table) BEGIN INSERT INTO search_documents (\(columns)) VALUES (\(values("NEW"))); END",
            "CREATE TRIGGER search_\(name)_update AFTER UPDATE ON \(table) BEGIN DELETE FROM search_documents WHERE entity_id = OLD.\(key); "
                + "INSERT INTO search_documents (\(columns)) VALUES (\(values("NEW"))); END",
            "CREATE TRIGGER search_\(name)_delete AFTER DELETE ON \(table) BEGIN DELETE FROM search_documents WHERE entity_id = OLD.\(key); END",
            "INSERT INTO search_documents (\(columns)) SELECT \(values(table)) FROM \(table)",
        ]
    }

    static let sqlite: [String] =
        triggers("references", table: "reference_documents", key: "id", values: referenceValues)
        + triggers("credentials", table: "site_credentials", key: "id", values: credentialValues)
        + triggers("network", table: "site_network", key: "site_id") { networkValues($0, sqlite: true) }

    static let postgres: [String] =
        CreateSearchIndex.postgresFunction(
            "reference_documents", values: referenceValues("NEW"),
            changed: "NEW.title IS DISTINCT FROM OLD.title OR NEW.body IS DISTINCT FROM OLD.body OR NEW.tags IS DISTINCT FROM OLD.tags")
        + CreateSearchIndex.postgresFunction(
            "site_credentials", values: credentialValues("NEW"),
            changed:
                "NEW.name IS DISTINCT FROM OLD.name OR NEW.username IS DISTINCT FROM OLD.username OR NEW.url IS DISTINCT FROM OLD.url OR NEW.notes IS DISTINCT FROM OLD.notes"
        )
        + CreateSearchIndex.postgresFunction(
            "site_network", values: networkValues("NEW", sqlite: false), changed: "NEW.document IS DISTINCT FROM OLD.document", key: "site_id")
        + [
            "INSERT INTO search_documents (\(columns)) SELECT \(referenceValues("reference_documents")) FROM reference_documents",
            "INSERT INTO search_documents (\(columns)) SELECT \(credentialValues("site_credentials")) FROM site_credentials",
            "INSERT INTO search_documents (\(columns)) SELECT \(networkValues("site_network", sqlite: false)) FROM site_network",
        ]
}
