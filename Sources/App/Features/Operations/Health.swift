import Fluent
import Foundation
import SQLKit
import TandemCore
import Vapor

/// Health for load balancers and orchestrators: liveness says the process answers; readiness says it can do its
/// work (the database answers and every migration this binary knows has run). An instance started before a
/// migration is applied is not ready; an old instance beside a newer schema stays ready, since migrations are
/// additive first (README "Running several instances").
enum Health {
    static func register(_ app: Application) {
        app.get("healthz") { req async throws -> Response in
            _ = try await req.db.sql.raw("SELECT 1 AS ok").first()
            return status("ok")
        }
        app.get("healthz", "live") { _ async throws -> Response in status("ok") }
        app.get("healthz", "ready") { req async throws -> Response in
            let missing: [String]
            do {
                missing = try await missingMigrations(req.db)
            } catch {
                req.logger.warning("readiness: the database did not answer", metadata: ["error": .string("\(error)")])
                throw Abort(.serviceUnavailable, reason: "The database does not answer.")
            }
            guard missing.isEmpty else {
                throw Abort(.serviceUnavailable, reason: "\(missing.count) migration(s) have not run (the first: \(missing[0])); run tandem migrate.")
            }
            return status("ready")
        }
    }

    private static func status(_ text: String) -> Response {
        Response(
            status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
            body: .init(string: #"{"status":"\#(text)"}"#))
    }

    /// The names of this binary's migrations that the database has not recorded, in order.
    static func missingMigrations(_ db: any Database) async throws -> [String] {
        let rows = try await db.sql.raw("SELECT name FROM _fluent_migrations").all()
        let applied = Set(try rows.map { try $0.decode(column: "name", as: String.self) })
        return Migrations.all.map(\.name).filter { !applied.contains($0) }
    }

    /// Commands that work on the schema (the worker) refuse to start on an older one.
    static func requireCurrentSchema(_ db: any Database) async throws {
        let missing = (try? await missingMigrations(db)) ?? Migrations.all.map(\.name)
        guard missing.isEmpty else { throw TandemError.conflict("\(missing.count) migration(s) have not run; run tandem migrate") }
    }
}
