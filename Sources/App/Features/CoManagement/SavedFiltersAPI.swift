import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/saved-filters`: saved ticket-list filters and shared lists. Co-managed system levels do
/// not grant them (HaloPSA: co-managed agents cannot create lists and filters).
enum SavedFiltersAPI {
    static let what = "saved filter"

    static func register(_ api: any RoutesBuilder) {
        let filters = api.grouped("saved-filters")
        filters.get { req async throws -> ListPage<SavedFilterDTO> in
            let (items, next) = try await SavedFilter.query(on: req.db)
                .filter(AccessPolicy.savedFilterScope(for: req.principal), on: SavedFilter.scopeTable).page(PageRequest(req))
            return ListPage(items: items.map(SavedFilterDTO.init), nextCursor: next)
        }
        filters.post { req async throws -> Response in
            let principal = try req.principal
            try AccessPolicy.authorizeSavedFilters(principal)
            let filter = SavedFilter()
            filter.id = .v7()
            filter.ownerId = principal.id
            filter.shared = false
            try apply(req.content.decode(SavedFilterInput.self), to: filter, creating: true)
            try await req.db.write { db in
                try await filter.create(on: db)
                try await Audit.record("created", SavedFilter.schema, id: filter.id, by: principal, after: SavedFilterDTO(filter), on: db)
            }
            return try await SavedFilterDTO(filter).encodeResponse(status: .created, for: req)
        }
        filters.get(":id") { req async throws -> SavedFilterDTO in
            SavedFilterDTO(try await visible(req))
        }
        filters.patch(":id") { req async throws -> SavedFilterDTO in
            let principal = try req.principal
            let filter = try await owned(req)
            try AccessPolicy.authorizeSavedFilters(principal)
            let before = SavedFilterDTO(filter)
            try apply(req.content.decode(SavedFilterInput.self), to: filter, creating: false)
            try await req.db.write { db in
                try await filter.save(on: db)
                try await Audit.record("updated", SavedFilter.schema, id: filter.id, by: principal, before: before, after: SavedFilterDTO(filter), on: db)
            }
            return SavedFilterDTO(filter)
        }
        filters.delete(":id") { req async throws -> HTTPStatus in
            let principal = try req.principal
            let filter = try await owned(req)
            try await req.db.write { db in
                try await filter.delete(on: db)
                try await Audit.record("deleted", SavedFilter.schema, id: filter.id, by: principal, before: SavedFilterDTO(filter), on: db)
            }
            return .noContent
        }
    }

    static func visible(_ req: Request) async throws -> SavedFilter {
        try await Lookup.visible(
            SavedFilter.self, req.id("id", what), scope: AccessPolicy.savedFilterScope(for: req.principal),
            table: SavedFilter.scopeTable, what: what, on: req.db)
    }

    /// Only the owner changes a filter; others see shared ones read-only.
    static func owned(_ req: Request) async throws -> SavedFilter {
        let filter = try await visible(req)
        try await Lookup.require(
            filter, in: AccessPolicy.savedFilterScope(for: req.principal, .edit), table: SavedFilter.scopeTable,
            "only the owner can change this filter", on: req.db)
        return filter
    }

    static func apply(_ input: SavedFilterInput, to filter: SavedFilter, creating: Bool) throws {
        var validator = FieldValidator()
        if creating || !input.name.isAbsent, let name = validator.text(input.name.value, "name", max: 100) { filter.name = name }
        if creating || !input.query.isAbsent {
            let query = validator.text(input.query.value ?? "", "query", max: 1000, required: false) ?? ""
            filter.query = query
        }
        if !input.shared.isAbsent { filter.shared = input.shared.value ?? false }
        try validator.check()
    }
}
