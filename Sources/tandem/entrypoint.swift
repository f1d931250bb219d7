import App
import Logging
import Vapor

@main
enum Entrypoint {
    static func main() async throws {
        var env = try Environment.detect()
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
        AppMetricsBootstrap.run()
        let app = try await Application.make(env)
        do {
            try await configure(app)
            try await runDemoIfAsked(app, &env)
            try await app.execute()
        } catch {
            app.logger.report(error: error)
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
