import Fluent
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle
import Vapor

/// The background work, one loop per process: the due date watch, the SLA watch, the event consumers, import jobs,
/// then outbox delivery and (hourly) the blob sweep, again and again; a second's pause when a round found nothing to do. Every step claims what it
/// works on in the database (a row lock held by its transaction, or a lease for outbox messages and import jobs), so any number
/// of processes can run it on one PostgreSQL, and work a dead process held is taken by another.
///
/// A swift-service-lifecycle service: on graceful shutdown it finishes the round it is in (what a step claimed
/// is delivered or recorded, not abandoned to its lease) and returns.
struct BackgroundWorker: Service {
    /// A step's name, and the step on the database it is given.
    typealias Step = (String, @Sendable (Application, any Database) async throws -> Int)

    let app: Application
    /// The database the steps run on: `app.db`, or in `serve` one whose connections live on the background thread.
    var db: any Database
    var steps: [Step] = Self.steps

    init(app: Application, db: (any Database)? = nil, steps: [Step] = Self.steps) {
        self.app = app
        self.db = db ?? app.db
        self.steps = steps
    }

    /// In order: what the events cause is written to the outbox before the outbox is delivered.
    static let steps: [Step] = [
        ("due dates", { app, db in try await DueDateWatch.run(on: db, within: app.settings.options.dueSoonHours * 3600) }),
        ("SLA clocks", { _, db in try await SLAWatch.run(on: db) ?? 0 }),
        ("automation", { app, db in try await Automation.run(on: db, settings: app.settings, logger: app.logger) ?? 0 }),
        ("webhooks", { _, db in try await WebhookFanOut.run(on: db) ?? 0 }),
        ("outbox", { app, db in try await OutboxDelivery.run(on: db, settings: app.settings, group: app.eventLoopGroup) }),
        ("blob sweep", { app, db in try await BlobSweep.run(on: db, blobs: app.settings.blobs) ?? 0 }),
    ]

    /// Import jobs loop on their own, beside the steps above: one job runs to its end (a graceful shutdown waits
    /// for it), and a long import must not hold up SLA timers and mail meanwhile.
    static let importSteps: [Step] = [
        ("imports", { app, db in try await ImportJobs.run(on: db, settings: app.settings, logger: app.logger) })
    ]

    /// The services a worker process runs: the steps and the import jobs, each its own loop.
    static func services(_ app: Application, db: (any Database)? = nil) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        [.init(service: BackgroundWorker(app: app, db: db)), .init(service: BackgroundWorker(app: app, db: db, steps: importSteps))]
    }

    /// One round of every step (all of them, import jobs too, by default: what tests call); answers how much work it found.
    static func round(_ app: Application, db: (any Database)? = nil, steps: [Step] = steps + importSteps) async -> Int {
        let db = db ?? app.db
        var done = 0
        for (name, step) in steps {
            do {
                let started = ContinuousClock.now
                done += try await step(app, db)
                let took = ContinuousClock.now - started
                // An operator should see a step this slow: the steps after it in the round wait for it.
                if took > .milliseconds(500) {
                    app.logger.warning("background step slow", metadata: ["step": .string(name), "took": .string("\(took)")])
                }
            } catch {
                app.logger.error("background step failed", metadata: ["step": .string(name), "error": .string("\(error)")])
            }
        }
        return done
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // The round itself is never cancelled by a graceful shutdown: it ends by finishing its steps.
            if await Self.round(app, db: db, steps: steps) == 0 {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }
}

/// `tandem serve` runs the background work beside the HTTP server (unless `--no-workers` or
/// TANDEM_WORKERS=0), on a thread of its own (`BackgroundThread`). Vapor stops the server first (no new
/// connections, in-flight requests answered), then this handler asks the worker to shut down gracefully and waits
/// for its round to end.
final class BackgroundWork: LifecycleHandler, Sendable {
    private let running = NIOLockedValueBox<(group: ServiceGroup, task: Task<Void, Never>, thread: BackgroundThread)?>(nil)

    func didBootAsync(_ application: Application) async throws {
        let app = application
        let thread = BackgroundThread(app)
        let group = ServiceGroup(
            configuration: .init(services: BackgroundWorker.services(app, db: thread.db), logger: app.logger))
        let task = Task(executorPreference: thread) {
            do { try await group.run() } catch { app.logger.error("background work stopped", metadata: ["error": .string("\(error)")]) }
        }
        running.withLockedValue { $0 = (group, task, thread) }
    }

    func shutdownAsync(_ application: Application) async {
        guard
            let (group, task, thread) = running.withLockedValue({ running in
                defer { running = nil }
                return running
            })
        else { return }
        await group.triggerGracefulShutdown()
        await task.value
        await thread.shutdown()
    }
}

/// Where `serve`'s background work runs: its own thread, not the event loops that answer requests. Swift
/// Concurrency runs on those loops in `serve` (entrypoint), and a step's stretch of computing between two awaits (the
/// SLA watch working out 500 tickets' clocks, the rules planning a batch) held a loop for over a second: every
/// request on it waited (bench-instances: a 1.3–1.6 s create p99). On a thread of its own the kernel shares the
/// cores between it and the loops instead.
///
/// The work's database connections live on this thread too (`db`, the application's database configuration on
/// a pool of its own): Fluent decodes its models on the loop of the connection that answered, so with the
/// application's pool a step's reads still held the request loops (the SLA watch's 500 tickets showed in the
/// restricted page's p99 with two `serve`).
final class BackgroundThread: TaskExecutor, Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let databases: Databases
    let db: any Database

    init(_ app: Application) {
        // Requests first: on Linux the nice value is the thread's own, so only this thread yields.
        group.next().execute { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10) }
        databases = Databases(threadPool: app.threadPool, on: group)
        // The application's own configuration, with its companions (group commit, clock, vault): only the pool differs.
        if let configuration = app.databases.configuration() {
            databases.use(configuration, as: DatabaseID(string: "background"), isDefault: true)
        }
        db = databases.database(logger: app.logger, on: group.next()) ?? app.db
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        group.next().execute { job.runSynchronously(on: executor) }
    }

    func shutdown() async {
        await databases.shutdownAsync()
        try? await group.shutdownGracefully()
    }
}

/// `tandem worker`: the background work alone, without the HTTP server, so an operator can run web and worker
/// processes apart. SIGTERM or SIGINT ends it gracefully: the round in progress finishes first.
struct WorkerCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Run the background work (event consumers, SLA and due date timers, import jobs, outbox delivery) without serving HTTP." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await Health.requireCurrentSchema(app.db)
        app.logger.info("worker started")
        let group = ServiceGroup(
            configuration: .init(
                services: BackgroundWorker.services(app), gracefulShutdownSignals: [.sigterm, .sigint], logger: app.logger))
        try await group.run()
        app.logger.info("worker stopped")
    }
}

/// Registered last, so it shuts down first: the HTTP server stops accepting and answers the requests in flight
/// before anything they use goes away. Vapor shuts its server down with the application's storage, after the
/// lifecycle handlers and in no fixed order with Fluent, so a request still running on SIGTERM could find the
/// databases gone (a crash the deployment check caught). The server's own shutdown waits only for connections
/// still open: a request whose client has already hung up (a benchmark's last requests, a proxy's timeout) goes on
/// running, so this also waits for `InFlightRequests` to drain (bench-instances caught that one).
struct StopServingFirst: LifecycleHandler {
    let inFlight: InFlightRequests

    func shutdownAsync(_ application: Application) async {
        await application.server.shutdown()
        if !(await inFlight.drained(within: .seconds(30))) {
            application.logger.warning("requests still running 30 s after the server stopped", metadata: ["requests": .stringConvertible(inFlight.count)])
        }
    }
}

/// Counts the requests being answered. A synchronous middleware, the outermost: it counts a request in the same
/// event loop turn that reads it, so no request starts unseen between the server's stop and the wait.
/// A body streamed after its response (an audit export, a profile file, a page import's progress) is written
/// after the middleware counted its request done, so it is counted on its own (`streamed`, `hold`) from the
/// handler until it is written to its end.
final class InFlightRequests: Middleware, Sendable {
    private let running = NIOLockedValueBox(0)

    var count: Int { running.withLockedValue { $0 } }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        running.withLockedValue { $0 += 1 }
        return next.respond(to: request).always { _ in self.running.withLockedValue { $0 -= 1 } }
    }

    /// A response body written by `stream`, counted from now until the stream has ended.
    func streamed(_ stream: @escaping @Sendable (any AsyncBodyStreamWriter) async throws -> Void) -> Response.Body {
        let hold = hold()
        return .init(managedAsyncStream: { writer in
            defer { hold.release() }
            try await stream(writer)
        })
    }

    /// One streamed body counted in flight until `release`, or until the hold is dropped (a body never written,
    /// because its client went away first, is not waited for).
    func hold() -> Hold { Hold(self) }

    final class Hold: Sendable {
        private let requests: InFlightRequests
        private let held = NIOLockedValueBox(true)

        fileprivate init(_ requests: InFlightRequests) {
            self.requests = requests
            requests.running.withLockedValue { $0 += 1 }
        }

        func release() {
            let wasHeld = held.withLockedValue { held in
                defer { held = false }
                return held
            }
            guard wasHeld else { return }
            requests.running.withLockedValue { $0 -= 1 }
        }

        deinit { release() }
    }

    /// Whether none is running, waiting up to `limit` for that.
    func drained(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while count > 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

extension Application {
    private struct InFlightRequestsKey: StorageKey { typealias Value = InFlightRequests }

    /// The requests being answered, for bodies streamed after their response (`InFlightRequests.streamed`).
    /// Set by `configure`; an application without it counts nothing.
    var inFlightRequests: InFlightRequests {
        get { storage[InFlightRequestsKey.self] ?? InFlightRequests() }
        set { storage[InFlightRequestsKey.self] = newValue }
    }
}
