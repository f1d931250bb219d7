import Fluent
import Foundation
import TandemCore
import Vapor

/// `?limit=` and `?cursor=` of every collection (Appendix A).
struct PageRequest: Sendable {
    static let defaultLimit = 50
    static let maxLimit = 200

    var limit: Int
    /// The opaque cursor's content: the sort key of the last item of the previous page.
    var after: String?

    init(limit: Int = defaultLimit, after: String? = nil) {
        self.limit = limit
        self.after = after
    }

    /// `?limit=` of a request: `fallback` when absent; outside 1…`max`, a failure of `validator`.
    static func limit(of request: Request, fallback: Int = defaultLimit, max: Int = maxLimit, _ validator: inout FieldValidator) -> Int {
        guard let text = request.queryText("limit") else { return fallback }
        guard let value = Int(text), (1...max).contains(value) else {
            validator.fail("limit", "must be an integer between 1 and \(max)")
            return fallback
        }
        return value
    }

    init(_ request: Request) throws {
        var validator = FieldValidator()
        let limit = Self.limit(of: request, &validator)
        try validator.check()
        var after: String?
        if let cursor = request.queryText("cursor"), !cursor.isEmpty {
            guard let data = Data(base64URLEncoded: cursor), let text = String(data: data, encoding: .utf8), !text.isEmpty else {
                throw TandemError.invalid("cursor", "is not a cursor this server issued")
            }
            after = text
        }
        self.init(limit: limit, after: after)
    }

    func afterId() throws -> UUID? {
        guard let after else { return nil }
        guard let id = UUID(uuidString: after) else { throw TandemError.invalid("cursor", "is not a cursor this server issued") }
        return id
    }

    static func cursor(_ key: String) -> String {
        Data(key.utf8).base64URLEncodedString()
    }
}

struct ListPage<Item: Content>: Content {
    var items: [Item]
    var nextCursor: String?
}

struct CountResult: Content {
    var count: Int
}

extension Data {
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }

    func base64URLEncodedString() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension QueryBuilder where Model.IDValue == UUID {
    /// One page ordered by id, for collections without a natural order of their own. Ids are UUIDv7, so
    /// `newestFirst` reads the most recent rows first (the audit log's page).
    func page(_ page: PageRequest, newestFirst: Bool = false) async throws -> (items: [Model], nextCursor: String?) {
        var query = self.sort(\._$id, newestFirst ? .descending : .ascending)
        if let after = try page.afterId() {
            query = newestFirst ? query.filter(\._$id < after) : query.filter(\._$id > after)
        }
        let rows = try await query.limit(page.limit + 1).all()
        let items = Array(rows.prefix(page.limit))
        let next = rows.count > page.limit ? items.last.flatMap { $0.id }.map { PageRequest.cursor($0.uuidString) } : nil
        return (items, next)
    }
}
