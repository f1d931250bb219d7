import Fluent
import Foundation
import SQLKit

/// Counts login attempts per key (a username, an address, a two-factor enrolment) in the database, so
/// the limit holds across instances. An attempt is counted before the password or code is checked, in
/// one statement (an upsert that returns the new count), so parallel requests cannot all read "4
/// failures" and all try: the database serializes the increments. An attempt that turns out right
/// is taken back (`release`), so only failures stay counted.
///
/// Each key counts in a fixed window that starts at its first attempt: at most `limit` failures per
/// window, and the window's end lifts a lockout.
enum LoginThrottle {
    static let window: TimeInterval = 15 * 60

    struct Attempt: Sendable {
        let key: String
        let limit: Int
    }

    /// Counts one attempt for each key; false when any key is past its limit (the attempt then stays counted).
    static func attempt(_ attempts: [Attempt], now: Date? = nil, on db: any Database) async throws -> Bool {
        let now = now ?? db.now
        let started = Int64(now.timeIntervalSince1970)
        let expired = started - Int64(window)
        let counts = try await db.write { db in
            var counts: [Int] = []
            for attempt in attempts {
                let row = try await db.sql.raw(
                    """
                    INSERT INTO login_throttles (key, window_started, attempts) VALUES (\(bind: attempt.key), \(bind: started), 1)
                    ON CONFLICT (key) DO UPDATE SET
                        attempts = CASE WHEN login_throttles.window_started <= \(bind: expired) THEN 1 ELSE login_throttles.attempts + 1 END,
                        window_started = CASE WHEN login_throttles.window_started <= \(bind: expired) THEN \(bind: started) ELSE login_throttles.window_started END
                    RETURNING attempts
                    """
                ).first()
                counts.append(try row?.decode(column: "attempts", as: Int.self) ?? Int.max)
            }
            // Keys nobody tried for a window are forgotten now and then, so a spray of names does not pile up.
            if Int.random(in: 0..<200) == 0 {
                try await db.sql.raw("DELETE FROM login_throttles WHERE window_started <= \(bind: expired)").run()
            }
            return counts
        }
        return zip(attempts, counts).allSatisfy { $1 <= $0.limit }
    }

    /// Takes back an attempt that was right: it was not a failure.
    static func release(_ keys: [String], on db: any Database) async throws {
        try await db.write { db in
            for key in keys {
                try await db.sql.raw("UPDATE login_throttles SET attempts = attempts - 1 WHERE key = \(bind: key) AND attempts > 0").run()
            }
        }
    }
}
