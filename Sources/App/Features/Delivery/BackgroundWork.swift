import Fluent
import Foundation
import NIOConcurrencyHelpers
import Vapor

/// The server's background work, in one loop per process: the due date watch, the SLA watch, the event consumers, then outbox
/// delivery, again and again; a second's pause when a round found nothing to do. Every step claims
/// what it works on in the database, so several processes can run it on one PostgreSQL.
final class BackgroundWork: LifecycleHandler, @unchecked Sendable {
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    /// One round of every step; answers how much work it found.
    static func round(_ app: Application) async -> Int {
        var done = 0
        for (name, step) in steps {
            do {
                done += try await step(app)
            } catch {
                app.logger.error("background step failed", metadata: ["step": .string(name), "error": .string("\(error)")])
            }
        }
        return done
    }

    /// In order: what the events cause is written to the outbox before the outbox is delivered.
    static let steps: [(String, @Sendable (Application) async throws -> Int)] = [
        ("due dates", { app in try await DueDateWatch.run(on: app.db, within: app.settings.options.dueSoonHours * 3600) }),
        ("SLA clocks", { app in try await SLAWatch.run(on: app.db) ?? 0 }),
        ("automation", { app in try await Automation.run(on: app.db, settings: app.settings, logger: app.logger) ?? 0 }),
        ("webhooks", { app in try await WebhookFanOut.run(on: app.db) ?? 0 }),
        ("outbox", { app in try await OutboxDelivery.run(on: app.db, settings: app.settings, group: app.eventLoopGroup) }),
    ]

    func didBootAsync(_ application: Application) async throws {
        let app = application
        task.withLockedValue {
            $0 = Task.detached {
                while !Task.isCancelled {
                    if await Self.round(app) == 0 { try? await Task.sleep(for: .seconds(1)) }
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        let running = task.withLockedValue { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}
