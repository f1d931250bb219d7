import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// A reference (SPEC §9): a Markdown document of a site, or global when it has no site.
final class Reference: Model, VersionedRow, @unchecked Sendable {
    static let schema = "reference_documents"
    /// `AccessPolicy.referenceScope`'s facts: a global reference has no organization.
    static let scopeTable = ScopeTable(name: schema, columns: [.id: "id", .organization: "organization_id", .site: "site_id"])

    @ID(key: .id) var id: UUID?
    @OptionalField(key: "organization_id") var organizationId: UUID?
    @OptionalField(key: "site_id") var siteId: UUID?
    @Field(key: "title") var title: String
    @Field(key: "body") var body: String
    /// The tags as a JSON array, in the order given; `reference_tags` holds them for `?tag=`.
    @Field(key: "tags") var tagsJSON: String
    @Field(key: "version") var version: Int
    @Field(key: "author_id") var authorId: UUID
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    var tags: [String] { JSONColumn.decode(tagsJSON, default: []) }
}

final class ReferenceTag: Model, @unchecked Sendable {
    static let schema = "reference_tags"

    final class IDValue: Fields, Hashable, @unchecked Sendable {
        @Field(key: "tag") var tag: String
        @Field(key: "reference_id") var referenceId: UUID

        init() {}

        init(tag: String, referenceId: UUID) {
            self.tag = tag
            self.referenceId = referenceId
        }

        static func == (lhs: IDValue, rhs: IDValue) -> Bool { lhs.tag == rhs.tag && lhs.referenceId == rhs.referenceId }
        func hash(into hasher: inout Hasher) {
            hasher.combine(tag)
            hasher.combine(referenceId)
        }
    }

    @CompositeID var id: IDValue?

    init() {}

    init(tag: String, referenceId: UUID) {
        id = IDValue(tag: tag, referenceId: referenceId)
    }
}

struct ReferenceDTO: Content, Equatable {
    var id: String
    var siteId: String?
    var organizationId: String?
    var title: String
    /// The Markdown as written.
    var body: String
    /// The body rendered to safe HTML (`Markdown.html`: no script, no event handlers, no `javascript:` URLs).
    var html: String
    var tags: [String]
    /// Increases with every change; a PATCH that names an older one changes nothing (409).
    var version: Int
    var authorId: String
    var createdAt: Date?
    var updatedAt: Date?

    init(_ row: Reference) {
        id = row.id!.uuidString
        siteId = row.siteId?.uuidString
        organizationId = row.organizationId?.uuidString
        title = row.title
        body = row.body
        html = Markdown.html(row.body)
        tags = row.tags
        version = row.version
        authorId = row.authorId.uuidString
        createdAt = row.createdAt
        updatedAt = row.updatedAt
    }
}

/// `POST` and `PATCH` bodies. `siteId` is set at creation only (absent or null: a global reference);
/// `version`, when given on a PATCH, must be the reference's current one.
struct ReferenceInput: Decodable, Sendable {
    var siteId: Patch<String> = .absent
    var title: Patch<String> = .absent
    var body: Patch<String> = .absent
    var tags: Patch<[String]> = .absent
    var version: Patch<Int> = .absent
}

/// `/api/v1/references[?tag=&siteId=&global=]`: who reads and changes which is `AccessPolicy.referenceScope`;
/// a reference outside it is a 404. Changes are audited (the whole reference before and after).
enum ReferencesCollection: CRUDCollection {
    static let path: PathComponent = "references"
    static let what = "reference"
    static var table: ScopeTable { Reference.scopeTable }

    static func scope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        AccessPolicy.referenceScope(for: principal, operation)
    }

    static func authorizeCreate(_ principal: Principal) throws {
        guard scope(for: principal, .create) != .none else { throw TandemError.forbidden("your security level does not allow adding references") }
    }

    static func authorize(_ operation: AccessOperation, _ row: Reference, by principal: Principal, on db: any Database) throws {
        try require(operation, organizationId: row.organizationId, by: principal)
    }

    static func require(_ operation: AccessOperation, organizationId: UUID?, by principal: Principal) throws {
        guard scope(for: principal, operation).evaluate(ScopeFacts(values: [.organization: organizationId])) else {
            let verb = operation == .delete ? "deleting" : operation == .create ? "adding" : "changing"
            throw TandemError.forbidden("your security level does not allow \(verb) \(organizationId == nil ? "global references" : "this site's references")")
        }
    }

    static func narrow(_ query: QueryBuilder<Reference>, _ req: Request) throws -> QueryBuilder<Reference> {
        var validator = FieldValidator()
        let tag = req.queryText("tag").map { text in
            let tag = ReferenceContent.Tag.normalize(text)
            if tag == nil { validator.fail("tag", "is not a tag (letters, digits and dashes)") }
            return tag
        }
        let siteId = req.queryText("siteId").flatMap { validator.id($0, "siteId") }
        let global = req.queryText("global")
        if let global, global != "true", global != "false" { validator.fail("global", "must be true or false") }
        try validator.check()
        var query = query
        if let tag = tag ?? nil { query = query.filter(tagged(tag)) }
        if let siteId { query = query.filter(\.$siteId == siteId) }
        if global == "true" { query = query.filter(\.$siteId == nil) }
        if global == "false" { query = query.filter(\.$siteId != nil) }
        return query
    }

    static func dto(_ row: Reference, on db: any Database) async throws -> ReferenceDTO { ReferenceDTO(row) }

    static func apply(_ input: ReferenceInput, to row: Reference, creating: Bool, _ req: Request) async throws -> CRUD.AfterSave? {
        let principal = try req.principal
        if case .null = input.title { throw TandemError.invalid("title", "must not be empty") }
        if case .null = input.version { throw TandemError.invalid("version", "must be a number") }
        if !creating, let version = input.version.value, version != row.version {
            throw TandemError.conflict(
                "the reference was changed since you read it (version \(version), now \(row.version)): reload it and apply your change again")
        }
        let content = try ReferenceContent.validated(
            title: input.title.isAbsent ? row.$title.value : input.title.value,
            body: input.body.isAbsent ? row.$body.value : input.body.value,
            tags: input.tags.isAbsent ? (creating ? [] : row.tags) : input.tags.value)
        if creating {
            if let text = input.siteId.value {
                var validator = FieldValidator()
                let siteId = validator.id(text, "siteId")
                try validator.check()
                // A site the caller may not see reads as unknown.
                guard
                    let site = try await Site.query(on: req.db).filter(\.$id == siteId!)
                        .filter(AccessPolicy.organizationScope(for: principal, area: .sites, .view), on: Site.scopeTable).first()
                else { throw TandemError.invalid("siteId", "no site you can see has this id") }
                row.siteId = site.id
                row.organizationId = site.organizationId
            }
            try require(.create, organizationId: row.organizationId, by: principal)
            row.version = 1
            row.authorId = principal.id
        } else {
            if !input.siteId.isAbsent, input.siteId.value.flatMap(UUID.init(uuidString:)) != row.siteId {
                throw TandemError.invalid("siteId", "is read-only after creation")
            }
            row.version += 1
        }
        row.title = content.title
        row.body = content.body
        let tagsChanged = creating || row.tags != content.tags
        row.tagsJSON = JSONColumn.encode(content.tags)
        guard tagsChanged else { return nil }
        let referenceId = row.id!
        return { db in
            try await ReferenceTag.query(on: db).filter(\.$id.$referenceId == referenceId).delete()
            for tag in content.tags { try await ReferenceTag(tag: tag, referenceId: referenceId).create(on: db) }
            return []
        }
    }

    static func prepareDelete(_ row: Reference, on db: any Database) async throws {
        try await ReferenceTag.query(on: db).filter(\.$id.$referenceId == row.id!).delete()
    }

    static func organizationId(_ row: Reference) -> UUID? { row.organizationId }

    static func clash(_ row: Reference) -> String? { nil }
}

extension ReferencesCollection {
    /// A site's references and the global ones the principal reads, global first, each by title
    /// (the site's References tab; with `tag`, only those tagged so).
    static func forSite(_ siteId: UUID, tag: String? = nil, by principal: Principal, on db: any Database) async throws -> [Reference] {
        var query = Reference.query(on: db).filter(scope(for: principal, .view), on: table)
            .group(.or) { $0.filter(\.$siteId == siteId).filter(\.$siteId == nil) }
        if let tag { query = query.filter(tagged(tag)) }
        // Sorted here: the databases put NULL (global) first and last respectively.
        return try await query.sort(\.$title).sort(\.$id).all().sorted { ($0.siteId == nil) && ($1.siteId != nil) }
    }

    static func tagged(_ tag: String) -> DatabaseQuery.Filter {
        .sql(SQLQueryString("reference_documents.id IN (SELECT reference_id FROM reference_tags WHERE tag = \(bind: tag))"))
    }
}
