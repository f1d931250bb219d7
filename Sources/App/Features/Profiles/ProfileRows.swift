import Fluent
import Foundation
import TandemCore

/// What the client profile store does differently per database, behind one seam: `SQLProfileStore`
/// asks `db.profileRows` (chosen in `DatabaseStores`) and never which database it runs on.
protocol ProfileRows: Sendable {
    /// A site's profiles whose `column` is one of `values`, read this database's fastest way; nil
    /// leaves it to SQLKit.
    func profiles(siteId: UUID, where column: String, in values: [BulkValue], on db: any Database) async throws -> [StoredProfile]?
    /// How many transactions an import batch of `count` changes is written in at once.
    func writers(for count: Int) -> Int
}
