import Fluent
import Foundation
import TandemCore
import Vapor

/// `GET /api/v1/import-jobs[/{id}]`: imports submitted with `Prefer: respond-async`, where they stand and their
/// reports, for the person who submitted them and administrators (`AccessPolicy.importJobScope`).
enum ImportJobsAPI {
    static func register(_ api: any RoutesBuilder) {
        let jobs = api.grouped("import-jobs")
        jobs.get { req async throws -> ListPage<ImportJobDTO> in
            try await ImportJobs.list(state: req.queryText("state"), page: PageRequest(req), by: req.principal, on: req.db)
        }
        jobs.get(":id") { req async throws -> ImportJobDTO in
            ImportJobDTO(try await ImportJobs.visible(req.id("id", ImportJobs.what), by: req.principal, on: req.db))
        }
    }
}
