import App
import Logging
import NIOCore
import NIOPosix
import Vapor

@main
enum Entrypoint {
    static func main() async throws {
        // Swift Concurrency runs on NIO's event loops (Vapor's template offers the same switch): an
        // awaited database or socket result then resumes where it completed instead of hopping to
        // another pool of threads, which was about a third of the CPU of a request. Nothing here
        // blocks an event loop with `.wait()`. TANDEM_NIO_EXECUTOR=0 turns it off.
        // Only for the server: a batch command (an import) is one long chain of work that would then
        // stay on one event loop, where Swift's own pool lets its writes and its reading use both cores.
        // TANDEM_EVENT_LOOPS: the threads that answer requests, one per core by default. Instances sharing a host
        // should share its cores: two on 2 cores with one each served about 16 % more pages/s with a lower p99 than
        // with two each (bench-instances). Set before anything uses NIO's event loops.
        if let given = ProcessInfo.processInfo.environment["TANDEM_EVENT_LOOPS"] {
            guard let loops = AppOptions.eventLoops(given) else {
                FileHandle.standardError.write(Data("tandem: TANDEM_EVENT_LOOPS must be a whole number from 1 to 256, not '\(given)'\n".utf8))
                exit(1)
            }
            NIOSingletons.groupLoopCountSuggestion = loops
        }
        if AppOptions.serves(Array(CommandLine.arguments.dropFirst())), ProcessInfo.processInfo.environment["TANDEM_NIO_EXECUTOR"] != "0" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        var env = try Environment.detect()
        // `--smtp-port N` is Tandem's (`AppOptions.smtpListen` reads it); Vapor's `serve` would refuse it.
        env.arguments = AppOptions.SMTPListen.removingOption(from: env.arguments)
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
