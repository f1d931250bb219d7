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
            // A clear message and exit status 1, not a crash report.
            FileHandle.standardError.write(Data("tandem: \(commandLineMessage(for: error))\n".utf8))
            try? await app.asyncShutdown()
            exit(1)
        }
        try await app.asyncShutdown()
    }
}
