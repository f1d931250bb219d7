import Fluent
import Prometheus
import TandemCore
import Vapor

/// The route table: each feature registers its own paths.
func routes(_ app: Application) throws {
    Health.register(app)
    // The pages' one static file has its own route: FileMiddleware looked every request's path
    // up on disk, a trip to the thread pool and back before any API request could be routed.
    app.get("tandem.css") { req async throws -> Response in
        let path = req.application.directory.publicDirectory + "tandem.css"
        guard FileManager.default.isReadableFile(atPath: path) else { throw Abort(.notFound) }
        return try await req.fileio.asyncStreamFile(at: path, mediaType: .css)
    }
    app.get("metrics") { req async throws -> Response in
        try MetricsAccess.authorize(req, req.settings.options)
        // Without the database the process's own metrics still answer (`/healthz` tells why the backlog is missing).
        let text = AppMetrics.registry.emitToString() + ((try? await BacklogMetrics.text(on: req.db)) ?? "")
        return Response(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4"], body: .init(string: text))
    }

    let api = app.grouped("api", "v1").grouped(JSONBodyMiddleware())
    api.get("openapi.yaml") { req async throws -> Response in
        let path = req.application.directory.resourcesDirectory + "openapi.yaml"
        guard let data = FileManager.default.contents(atPath: path) else { throw Abort(.notFound) }
        return Response(status: .ok, headers: ["Content-Type": "application/yaml"], body: .init(data: data))
    }
    AuthAPI.register(api)
    OrganizationsAPI.register(api)
    PeopleAPI.register(api)
    ConfigurationAPI.register(api)
    TicketsAPI.register(api)
    SearchAPI.register(api)
    AuditAPI.register(api)
    EventsAPI.register(api)
    CoManagementAPI.register(api)
    OrganizationGroupsAPI.register(api)
    TicketAccessAPI.register(api)
    RowAccessAPI.register(api)
    SavedFiltersAPI.register(api)
    ClientProfilesAPI.register(api)
    ImportJobsAPI.register(api)
    OutboxAPI.register(api)
    WebhooksAPI.register(api)
    NotificationsAPI.register(api)
    AutomationAPI.register(api)
    SiteNotificationRulesAPI.register(api)
    SiteChecklistAPI.register(api)
    SiteSecurityAPI.register(api)
    SiteCredentialsAPI.register(api)
    SecurityRequestsAPI.register(api)
    SiteNetworkAPI.register(api)
    CRUD.register(ReferencesCollection.self, api)
    SLAAPI.register(api)
    IntakeAPI.register(api)
    IdentifyAPI.register(api)
    BlockHoursAPI.register(api)
    TimesheetsAPI.register(api)
    CRUD.register(ExpensesCollection.self, api)
    ReportsAPI.register(api)

    PagesRoutes.register(app)
}
