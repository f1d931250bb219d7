import Fluent
import Foundation
import TandemCore
import Vapor

/// The app's `WallClock`, riding with each database (`DatabaseCompanion`) so code that only has a
/// `Database` asks `db.now`.
struct ClockCompanion: DatabaseCompanion {
    let clock: any WallClock

    static func install(_ clock: any WallClock, on app: Application, databases: [DatabaseID]) {
        for id in databases { app.databases.middleware.use(ClockCompanion(clock: clock), on: id) }
    }
}

extension Database {
    /// Now, by the app's clock (`AppOptions.clock`).
    var now: Date { (ClockCompanion.installed(on: self)?.clock ?? SystemClock()).now() }
}
