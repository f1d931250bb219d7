import Testing

@testable import App

/// `SQLiteDirectConnection` calls SQLite's C API through `VaporCSQLite`, a module of sqlite-nio that
/// is not one of its products. Package.swift pins sqlite-nio; this fails when that pin (and so the
/// SQLite it carries) moves, so whoever upgrades it re-checks the direct connection's C calls.
@Suite struct SQLiteDirectTests {
    @Test func theLinkedSQLiteIsTheOneThePinCarries() {
        #expect(SQLiteDirectConnection.libraryVersion == "3.54.1", "sqlite-nio moved: check SQLiteDirectConnection, then update this version")
    }
}
