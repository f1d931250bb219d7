import Fluent

/// What differs per database, behind one store each, chosen here and nowhere else: feature code asks
/// `db.ticketStore`, `db.profileRows`, `db.tokenLookup`, `db.stores.claimLocking`, `db.stores.updateLocking` or `db.stores.textSearch`, never which
/// database it runs on.
struct DatabaseStores: Sendable {
    let tickets: any TicketStore
    let profileRows: any ProfileRows
    let tokens: any TokenLookup
    /// The locking clause of a `SELECT` that claims rows for one worker (a consumer's cursor, outbox
    /// messages): PostgreSQL skips rows another instance holds; SQLite's write transaction already
    /// holds the whole database.
    let claimLocking: String
    /// The locking clause of a `SELECT` that locks rows it will change, waiting for their holders (rows locked in one
    /// order, so two writers cannot deadlock); SQLite's write transaction already holds the whole database.
    let updateLocking: String
    let textSearch: any TextSearch

    static let sqlite = DatabaseStores(
        tickets: SQLiteTicketStore(), profileRows: SQLiteProfileRows(), tokens: SQLiteTokenLookup(), claimLocking: "", updateLocking: "",
        textSearch: SQLiteTextSearch())
    static let postgres = DatabaseStores(
        tickets: PostgresTicketStore(), profileRows: PostgresProfileRows(), tokens: TokenCache.Lookup(reading: PostgresTokenLookup()),
        claimLocking: "FOR UPDATE SKIP LOCKED",
        updateLocking: "FOR UPDATE", textSearch: PostgresTextSearch())
}

extension Database {
    var stores: DatabaseStores { isSQLite ? .sqlite : .postgres }
    var ticketStore: any TicketStore { stores.tickets }
    var profileRows: any ProfileRows { stores.profileRows }
    var tokenLookup: any TokenLookup { stores.tokens }
}
