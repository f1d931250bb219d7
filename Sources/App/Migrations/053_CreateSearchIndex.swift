import Fluent
import SQLKit

/// Full-text search (SPEC §4): one row per searchable text in `search_documents` (a ticket's title and
/// description, each note with its publish-to, each contact's name and email), kept in step by
/// triggers on the source tables, so every write path (the pipeline, imports, bulk inserts) indexes
/// without knowing. SQLite indexes it with FTS5 (an external-content table), PostgreSQL with a stored
/// `tsvector` and a GIN index; both stem English words (Porter, `english`). `TextSearch` queries them.
struct CreateSearchIndex: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if database.isSQLite {
            for statement in Self.sqlite { try await sql.raw(SQLQueryString(statement)).run() }
        } else {
            for statement in Self.postgres { try await sql.raw(SQLQueryString(statement)).run() }
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if database.isSQLite {
            for trigger in Self.sqliteTriggers { try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS \(trigger)")).run() }
            try await sql.raw("DROP TABLE IF EXISTS search_fts").run()
        } else {
            for table in ["tickets", "notes", "contacts"] {
                try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS search_\(table) ON \(table)")).run()
                try await sql.raw(SQLQueryString("DROP FUNCTION IF EXISTS tandem_search_\(table)()")).run()
            }
        }
        try await sql.raw("DROP TABLE IF EXISTS search_documents").run()
    }

    /// The rows of each source, as the backfill and the triggers write them (`row` is `NEW` or the table).
    static func ticketValues(_ row: String) -> String { "'ticket', \(row).id, \(row).id, NULL, \(row).title, \(row).description" }
    static func noteValues(_ row: String) -> String { "'note', \(row).id, \(row).ticket_id, \(row).publish_to, '', \(row).body" }
    static func contactValues(_ row: String) -> String {
        "'contact', \(row).id, NULL, NULL, \(row).first_name || ' ' || \(row).last_name, \(contactBody(row))"
    }

    /// A contact's email whole and in parts: PostgreSQL's parser keeps an address as one token, so its words
    /// (`contoso`, `example`) are added beside it.
    static func contactBody(_ row: String) -> String {
        "COALESCE(\(row).email, '') || ' ' || REPLACE(REPLACE(COALESCE(\(row).email, ''), '@', ' '), '.', ' ')"
    }

    static let columns = "kind, entity_id, ticket_id, publish_to, title, body"

    static let sqliteTriggers = [
        "search_documents_insert", "search_documents_delete", "search_documents_update", "search_tickets_insert", "search_tickets_update",
        "search_tickets_delete", "search_notes_insert", "search_notes_update", "search_notes_delete", "search_contacts_insert",
        "search_contacts_update", "search_contacts_delete",
    ]

    static let sqlite: [String] = [
        """
        CREATE TABLE search_documents (doc_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, entity_id TEXT NOT NULL UNIQUE, ticket_id TEXT,
            publish_to TEXT, title TEXT NOT NULL, body TEXT NOT NULL)
        """,
        "CREATE INDEX search_documents_ticket ON search_documents (ticket_id)",
        """
        CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', content_rowid='doc_id',
            tokenize='porter unicode61 remove_diacritics 2')
        """,
        "CREATE TRIGGER search_documents_insert AFTER INSERT ON search_documents BEGIN "
            + "INSERT INTO search_fts (rowid, title, body) VALUES (NEW.doc_id, NEW.title, NEW.body); END",
        "CREATE TRIGGER search_documents_delete AFTER DELETE ON search_documents BEGIN "
            + "INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', OLD.doc_id, OLD.title, OLD.body); END",
        "CREATE TRIGGER search_documents_update AFTER UPDATE ON search_documents BEGIN "
            + "INSERT INTO search_fts (search_fts, rowid, title, body) VALUES ('delete', OLD.doc_id, OLD.title, OLD.body); "
            + "INSERT INTO search_fts (rowid, title, body) VALUES (NEW.doc_id, NEW.title, NEW.body); END",
        "CREATE TRIGGER search_tickets_insert AFTER INSERT ON tickets BEGIN "
            + "INSERT INTO search_documents (\(columns)) VALUES (\(ticketValues("NEW"))); END",
        "CREATE TRIGGER search_tickets_update AFTER UPDATE OF title, description ON tickets BEGIN "
            + "UPDATE search_documents SET title = NEW.title, body = NEW.description WHERE entity_id = NEW.id; END",
        "CREATE TRIGGER search_tickets_delete AFTER DELETE ON tickets BEGIN DELETE FROM search_documents WHERE ticket_id = OLD.id; END",
        "CREATE TRIGGER search_notes_insert AFTER INSERT ON notes BEGIN INSERT INTO search_documents (\(columns)) VALUES (\(noteValues("NEW"))); END",
        "CREATE TRIGGER search_notes_update AFTER UPDATE OF body, publish_to ON notes BEGIN "
            + "UPDATE search_documents SET body = NEW.body, publish_to = NEW.publish_to WHERE entity_id = NEW.id; END",
        "CREATE TRIGGER search_notes_delete AFTER DELETE ON notes BEGIN DELETE FROM search_documents WHERE entity_id = OLD.id; END",
        "CREATE TRIGGER search_contacts_insert AFTER INSERT ON contacts BEGIN "
            + "INSERT INTO search_documents (\(columns)) VALUES (\(contactValues("NEW"))); END",
        "CREATE TRIGGER search_contacts_update AFTER UPDATE OF first_name, last_name, email ON contacts BEGIN "
            + "UPDATE search_documents SET title = NEW.first_name || ' ' || NEW.last_name, body = \(contactBody("NEW")) WHERE entity_id = NEW.id; END",
        "CREATE TRIGGER search_contacts_delete AFTER DELETE ON contacts BEGIN DELETE FROM search_documents WHERE entity_id = OLD.id; END",
        "INSERT INTO search_documents (\(columns)) SELECT \(ticketValues("tickets")) FROM tickets",
        "INSERT INTO search_documents (\(columns)) SELECT \(noteValues("notes")) FROM notes",
        "INSERT INTO search_documents (\(columns)) SELECT \(contactValues("contacts")) FROM contacts",
    ]

    /// One row trigger function per source table: insert or update its document, or delete it.
    static func postgresFunction(_ table: String, values: String, changed: String, key: String = "id") -> [String] {
        [
            """
            CREATE FUNCTION tandem_search_\(table)() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    DELETE FROM search_documents WHERE entity_id = OLD.\(key);
                    RETURN NULL;
                END IF;
                IF TG_OP = 'UPDATE' AND NOT (\(changed)) THEN RETURN NULL; END IF;
                INSERT INTO search_documents (\(columns)) VALUES (\(values))
                ON CONFLICT (entity_id) DO UPDATE SET publish_to = EXCLUDED.publish_to, title = EXCLUDED.title, body = EXCLUDED.body;
                RETURN NULL;
            END $$
            """,
            "CREATE TRIGGER search_\(table) AFTER INSERT OR UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION tandem_search_\(table)()",
        ]
    }

    static let postgres: [String] =
        [
            """
            CREATE TABLE search_documents (entity_id uuid PRIMARY KEY, kind text NOT NULL, ticket_id uuid, publish_to text,
                title text NOT NULL, body text NOT NULL,
                tsv tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED)
            """,
            "CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv)",
            "CREATE INDEX search_documents_ticket ON search_documents (ticket_id)",
        ]
        + postgresFunction(
            "tickets", values: ticketValues("NEW"), changed: "NEW.title IS DISTINCT FROM OLD.title OR NEW.description IS DISTINCT FROM OLD.description")
        + postgresFunction("notes", values: noteValues("NEW"), changed: "NEW.body IS DISTINCT FROM OLD.body OR NEW.publish_to IS DISTINCT FROM OLD.publish_to")
        + postgresFunction(
            "contacts", values: contactValues("NEW"),
            changed:
                "NEW.first_name IS DISTINCT FROM OLD.first_name OR NEW.last_name IS DISTINCT FROM OLD.last_name OR NEW.email IS DISTINCT FROM OLD.email")
        + [
            "INSERT INTO search_documents (\(columns)) SELECT \(ticketValues("tickets")) FROM tickets",
            "INSERT INTO search_documents (\(columns)) SELECT \(noteValues("notes")) FROM notes",
            "INSERT INTO search_documents (\(columns)) SELECT \(contactValues("contacts")) FROM contacts",
        ]
}
