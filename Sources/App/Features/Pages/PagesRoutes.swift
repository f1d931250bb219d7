import Vapor

/// Server-rendered pages (filled in by the pages work).
enum PagesRoutes {
    static func register(_ app: Application) {}
}
