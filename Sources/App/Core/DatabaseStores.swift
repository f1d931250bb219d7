import Fluent

/// What differs per database, behind one store each, chosen here and nowhere else: feature code asks
/// `db.ticketStore`, `db.profileRows`, `db.tokenLookup` or `db.eventStore`, never which database it runs on.
struct DatabaseStores: Sendable {
    let tickets: any TicketStore
    let profileRows: any ProfileRows
    let tokens: any TokenLookup
    let events: any EventStore

    static let sqlite = DatabaseStores(tickets: SQLiteTicketStore(), profileRows: SQLiteProfileRows(), tokens: SQLiteTokenLookup(), events: SQLiteEventStore())
    static let postgres = DatabaseStores(
        tickets: PostgresTicketStore(), profileRows: PostgresProfileRows(), tokens: PostgresTokenLookup(), events: PostgresEventStore())
}

extension Database {
    var stores: DatabaseStores { isSQLite ? .sqlite : .postgres }
    var ticketStore: any TicketStore { stores.tickets }
    var profileRows: any ProfileRows { stores.profileRows }
    var tokenLookup: any TokenLookup { stores.tokens }
    var eventStore: any EventStore { stores.events }
}
