import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import SQLiteNIO
// SQLiteNIO's own copy of SQLite (not a product of the package, but its module is visible to
// dependents): the same library, so both connections share its locking and WAL code.
import VaporCSQLite

/// A SQLite connection driven synchronously through SQLite's C API, with its statements prepared
/// once and kept: the group commit's writer (`SQLiteWriterThread`) and the hot reads (`SQLiteReaders`).
///
/// SQLiteNIO runs each statement as a job on the shared thread pool and answers on an event loop:
/// two thread hand-offs per statement, behind whatever reads are queued, and it prepares every
/// statement again each time. A commit group of ticket creations is seven statements; through
/// SQLiteNIO the writer spent most of each group waiting for threads, and it is the one writer.
/// Here a whole group is one hand-off; a ticket page (two statements) is one too.
///
/// Not thread-safe: one job at a time uses it (`SQLiteWriterThread`, `SQLiteReaders`).
final class SQLiteDirectConnection {
    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        let message: String
        var description: String { "SQLite error \(code): \(message)" }
    }

    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// The version of the SQLite library linked through `VaporCSQLite` (pinned in Package.swift).
    static var libraryVersion: String { String(cString: sqlite_nio_sqlite3_libversion()) }

    /// A row of `query`, valid only inside its callback.
    struct Row: SQLiteColumns {
        fileprivate let statement: OpaquePointer
        fileprivate let names: [String: Int32]

        func column(_ name: String) -> SQLiteData? {
            names[name].map { SQLiteDirectConnection.column($0, of: statement) }
        }
    }

    /// Kept statements beyond this many are all finalized (SQL text varies with the principal's scope).
    private static let maxStatements = 256
    private var columnNames: [OpaquePointer: [String: Int32]] = [:]

    /// `readOnly`: `PRAGMA query_only`, for the read connections.
    init(path: String, readOnly: Bool = false) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI | SQLITE_OPEN_EXRESCODE
        let opened = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard opened == SQLITE_OK else {
            let failure = Failure(code: opened, message: "could not open the SQLite database at \(path)")
            sqlite_nio_sqlite3_close(handle)
            throw failure
        }
        // As SQLiteNIO's connections: wait for other writers (another process, a command) rather than fail.
        sqlite_nio_sqlite3_busy_handler(handle, { _, _ in 1 }, nil)
        // The writer: durable commits (WAL fsync on each COMMIT), references checked, and a page cache of 32 MB
        // (default 2 MB) with statement journals in memory: an import batch otherwise spills pages
        // mid-transaction and writes its statement journal to a temporary file. A reader only reads.
        let pragmas =
            readOnly
            ? ["PRAGMA query_only = ON", "PRAGMA temp_store = MEMORY"]
            : ["PRAGMA foreign_keys = ON", "PRAGMA synchronous = FULL", "PRAGMA cache_size = -32768", "PRAGMA temp_store = MEMORY"]
        for pragma in pragmas { try execute(pragma) }
    }

    deinit { close() }

    func close() {
        finalizeStatements()
        if let handle { sqlite_nio_sqlite3_close(handle) }
        handle = nil
    }

    /// Runs one statement (prepared on first use and kept) with `binds`; answers the first row's
    /// columns, empty when it gives no row.
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLiteData] = []) throws -> [SQLiteData] {
        let statement = try bound(sql, binds)
        defer { sqlite_nio_sqlite3_reset(statement) }
        var row: [SQLiteData] = []
        var step = sqlite_nio_sqlite3_step(statement)
        if step == SQLITE_ROW {
            row = (0..<sqlite_nio_sqlite3_column_count(statement)).map { Self.column($0, of: statement) }
            while step == SQLITE_ROW { step = sqlite_nio_sqlite3_step(statement) }
        }
        guard step == SQLITE_DONE else { throw failure(step) }
        return row
    }

    /// Runs a statement with `binds` and calls `body` with each row.
    func query(_ sql: String, _ binds: [SQLiteData], _ body: (Row) throws -> Void) throws {
        let statement = try bound(sql, binds)
        defer { sqlite_nio_sqlite3_reset(statement) }
        var step = sqlite_nio_sqlite3_step(statement)
        if step == SQLITE_ROW {
            let row = Row(statement: statement, names: names(of: statement))
            while step == SQLITE_ROW {
                try body(row)
                step = sqlite_nio_sqlite3_step(statement)
            }
        }
        guard step == SQLITE_DONE else { throw failure(step) }
    }

    /// The kept statement with every parameter bound anew. Not `sqlite3_clear_bindings`: it marks a
    /// statement whose plan looked at a bound value (`x = ?` with 0 or 1, a LIMIT) as expired, and
    /// SQLite then prepares it again on the next step, every time.
    private func bound(_ sql: String, _ binds: [SQLiteData]) throws -> OpaquePointer {
        let statement = try prepared(sql)
        guard binds.count == Int(sqlite_nio_sqlite3_bind_parameter_count(statement)) else {
            throw Failure(code: SQLITE_RANGE, message: "\(binds.count) binds for \(sqlite_nio_sqlite3_bind_parameter_count(statement)) parameters in \(sql)")
        }
        for (index, bind) in binds.enumerated() {
            try check(Self.bind(bind, at: Int32(index + 1), to: statement))
        }
        return statement
    }

    private func names(of statement: OpaquePointer) -> [String: Int32] {
        if let names = columnNames[statement] { return names }
        var names: [String: Int32] = [:]
        for index in 0..<sqlite_nio_sqlite3_column_count(statement) {
            // The first of equal names, as SQLiteNIO's rows answer.
            if let name = sqlite_nio_sqlite3_column_name(statement, index).map({ String(cString: $0) }), names[name] == nil { names[name] = index }
        }
        columnNames[statement] = names
        return names
    }

    private func finalizeStatements() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements = [:]
        columnNames = [:]
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        if statements.count >= Self.maxStatements { finalizeStatements() }
        var statement: OpaquePointer?
        try check(sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil))
        guard let statement else { throw Failure(code: SQLITE_MISUSE, message: "no statement in \(sql)") }
        statements[sql] = statement
        return statement
    }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> Failure {
        Failure(code: code, message: sqlite_nio_sqlite3_errmsg(handle).map { String(cString: $0) } ?? "unknown error")
    }

    private static func bind(_ value: SQLiteData, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let value): sqlite_nio_sqlite3_bind_int64(statement, index, Int64(value))
        case .float(let value): sqlite_nio_sqlite3_bind_double(statement, index, value)
        case .text(let value): sqlite_nio_sqlite3_bind_text64(statement, index, value, UInt64(value.utf8.count), transient, UInt8(SQLITE_UTF8))
        case .blob(let value):
            value.withUnsafeReadableBytes { sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient) }
        case .null: sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    fileprivate static func column(_ index: Int32, of statement: OpaquePointer) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: .integer(Int(sqlite_nio_sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT: .float(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT: sqlite_nio_sqlite3_column_text(statement, index).map { .text(String(cString: $0)) } ?? .null
        case SQLITE_BLOB:
            .blob(
                ByteBuffer(
                    bytes: UnsafeRawBufferPointer(
                        start: sqlite_nio_sqlite3_column_blob(statement, index), count: Int(sqlite_nio_sqlite3_column_bytes(statement, index)))))
        default: .null
        }
    }
}

/// SQLite copies bound text and blobs (they outlive the Swift values).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The thread that owns a `SQLiteDirectConnection` (opened on first use) and runs jobs on it one at a time.
final class SQLiteWriterThread: @unchecked Sendable {
    private let path: String
    private let thread = NIOThreadPool(numberOfThreads: 1)
    /// Touched only by jobs on `thread`, one at a time.
    private var connection: SQLiteDirectConnection?

    init(path: String) {
        self.path = path
        thread.start()
    }

    func run<T: Sendable>(_ job: @escaping @Sendable (SQLiteDirectConnection) throws -> T) async throws -> T {
        try await thread.runIfActive {
            if self.connection == nil { self.connection = try SQLiteDirectConnection(path: self.path) }
            return try job(self.connection!)
        }
    }

    /// Closes the connection and stops the thread (application shutdown).
    func shutdown() async {
        _ = try? await thread.runIfActive { self.connection?.close() }
        try? await thread.shutdownGracefully()
    }
}

/// Read connections of their own (`SQLiteDirectConnection`, query-only), one per thread of a pool
/// of their own, for the reads every request makes (the token) and the busiest page (tickets):
/// one hand-off per read instead of two per statement, and statements prepared once. They read
/// committed data only (each statement its own read transaction in WAL mode), so they serve reads
/// outside a transaction; reads inside one stay on its connection.
final class SQLiteReaders: @unchecked Sendable {
    private let path: String
    private let threads: NIOThreadPool
    private let lock = NIOLock()
    /// Opened on first use; as many as threads, so a job always finds one.
    private var idle: [SQLiteDirectConnection] = []
    private var all: [SQLiteDirectConnection] = []

    init(path: String, count: Int) {
        self.path = path
        threads = NIOThreadPool(numberOfThreads: count)
        threads.start()
    }

    func read<T: Sendable>(_ job: @escaping @Sendable (SQLiteDirectConnection) throws -> T) async throws -> T {
        try await threads.runIfActive {
            let connection = try self.lock.withLock { () throws -> SQLiteDirectConnection in
                if let connection = self.idle.popLast() { return connection }
                let connection = try SQLiteDirectConnection(path: self.path, readOnly: true)
                self.all.append(connection)
                return connection
            }
            defer { self.lock.withLock { self.idle.append(connection) } }
            return try job(connection)
        }
    }

    /// Stops the threads, then closes the connections (application shutdown).
    func shutdown() async {
        try? await threads.shutdownGracefully()
        lock.withLock {
            for connection in all { connection.close() }
            all = []
            idle = []
        }
    }
}
