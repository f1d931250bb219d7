import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Leaf
import NIOCore
import TandemCore
import Vapor

/// What `configure` takes from outside, so tests can override it (SPEC §11).
public struct AppOptions: Sendable {
    public enum Storage: Sendable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    public var storage: Storage
    public var blobDirectory: String
    /// Attachment bytes in the database instead of a directory (the default with PostgreSQL).
    public var blobsInDatabase: Bool
    public var bcryptCost: Int
    /// Cookies marked Secure (set when served over TLS or behind a TLS proxy).
    public var secureCookies: Bool
    /// When set, `/metrics` needs this bearer token.
    public var metricsToken: String?
    /// When set, `/metrics` answers only these addresses.
    public var metricsAllowedAddresses: Set<String>?
    /// Where "now" comes from (`Database.now`); tests set one they move.
    public var clock: any WallClock = SystemClock()
    /// The directory holding `Resources/` and `Public/`; nil finds it (`ResourceRoot.locate`).
    public var resourcesDirectory: String?
    /// `TANDEM_SMTP_URL` and `TANDEM_MAIL_FROM`: where mail and SMS go (checked by `configure`);
    /// without a URL they wait in the outbox.
    public var smtpURL: String?
    public var mailFrom: String?
    /// `TANDEM_PUBLIC_URL`: the address people reach the server at, for links in mail.
    public var publicURL: String?
    /// `TANDEM_WEBHOOK_ALLOW`: address ranges (CIDR, comma-separated) webhooks may reach although
    /// they are not public, such as a receiver on the MSP's own network.
    public var webhookAllowedRanges: [String] = []
    /// `TANDEM_TRUSTED_PROXIES`: address ranges (CIDR, comma-separated) of the reverse proxies in front, whose
    /// `X-Forwarded-For` names the client (`ClientAddress`): for login rate limits and `TANDEM_METRICS_ALLOW`.
    public var trustedProxies: [String] = []
    /// Whether this process runs the background work (event consumers, outbox delivery): `serve`
    /// and `demo` do; tests run each step themselves.
    public var runsWorkers = false
    /// `TANDEM_TOKEN_CACHE=off` turns off `TokenCache` (PostgreSQL): for a connection that cannot `LISTEN`, such as
    /// PgBouncer in transaction mode. Only `serve` and `demo` run it.
    public var tokenCache = true
    /// `TANDEM_OUTBOX_LEASE_SECONDS` (300, from 5 to 86,400): how long a delivery run's claim on outbox messages
    /// holds before another instance takes them (a process killed mid-run).
    public var outboxLease: TimeInterval = 300
    /// `TANDEM_DUE_SOON_HOURS` (24): how long before a ticket's due date "due date approaching" fires.
    public var dueSoonHours = 24.0
    /// `TANDEM_PUBLIC_MAIL_DOMAINS`: more public mail domains (comma-separated) than the built-in list;
    /// none of them can be a client email domain, and mail from them is never matched to a site by domain.
    public var publicMailDomains: [String] = []
    /// `--smtp-port N` or `TANDEM_SMTP_PORT`, `TANDEM_SMTP_HOST` (127.0.0.1), `TANDEM_SMTP_DOMAINS`:
    /// the SMTP listener for mail intake (`SMTPListener`), when the server runs one.
    public var smtpListen: SMTPListen?
    /// The credential vault's master key (`VaultKeys.resolve`): given directly (tests), or read from
    /// `TANDEM_VAULT_KEY_FILE` (`vaultKeyFile`) or `TANDEM_VAULT_KEY` (`vaultKeyText`).
    public var vaultKey: VaultMasterKey?
    public var vaultKeyFile: String?
    public var vaultKeyText: String?

    /// `TANDEM_EVENT_LOOPS` read: a whole number from 1 to 256, else nil (refused).
    public static func eventLoops(_ text: String) -> Int? {
        guard let loops = Int(text.trimmingCharacters(in: .whitespaces)), (1...256).contains(loops) else { return nil }
        return loops
    }

    /// Whether a process with these arguments (the program's name left out) answers requests: `serve`, `demo`, or
    /// none (Vapor's default command is `serve`). Only such a process runs NIO's executor, the background work, the
    /// token cache and the SMTP intake.
    public static func serves(_ given: [String]) -> Bool {
        let arguments = SMTPListen.removingOption(from: given)
        return arguments.isEmpty || arguments.contains("serve") || arguments.contains("demo")
    }

    /// Where the SMTP intake listens, and for which recipient domains (empty: any).
    public struct SMTPListen: Sendable, Equatable {
        public var host: String
        /// -1 when what was given is not a number (`configure` refuses it).
        public var port: Int
        public var domains: [String]

        public init(host: String = "127.0.0.1", port: Int, domains: [String] = []) {
            self.host = host
            self.port = port
            self.domains = domains
        }

        /// `--smtp-port N` or `--smtp-port=N` in the command line, else `TANDEM_SMTP_PORT`; nil: none.
        static func port(arguments: [String], environment: String?) -> String? {
            for (index, argument) in arguments.enumerated() {
                if argument == "--smtp-port" { return index + 1 < arguments.count ? arguments[index + 1] : "" }
                if argument.hasPrefix("--smtp-port=") { return String(argument.dropFirst("--smtp-port=".count)) }
            }
            return environment.flatMap { $0.isEmpty ? nil : $0 }
        }

        /// The command line without `--smtp-port`, for Vapor's `serve`, which does not know it.
        /// The arguments without Tandem's own options of `serve` (`--smtp-port N`, `--no-workers`), which
        /// Vapor's `serve` would refuse.
        public static func removingOption(from arguments: [String]) -> [String] {
            var result: [String] = []
            var skipNext = false
            for argument in arguments {
                if skipNext {
                    skipNext = false
                } else if argument == "--smtp-port" {
                    skipNext = true
                } else if !argument.hasPrefix("--smtp-port="), argument != "--no-workers" {
                    result.append(argument)
                }
            }
            return result
        }
    }

    public init(
        storage: Storage, blobDirectory: String = "data/blobs", blobsInDatabase: Bool? = nil, bcryptCost: Int = 12, secureCookies: Bool = false,
        metricsToken: String? = nil, metricsAllowedAddresses: Set<String>? = nil, resourcesDirectory: String? = nil
    ) {
        self.resourcesDirectory = resourcesDirectory
        self.metricsToken = metricsToken
        self.metricsAllowedAddresses = metricsAllowedAddresses
        self.storage = storage
        self.blobDirectory = blobDirectory
        if case .postgres = storage {
            self.blobsInDatabase = blobsInDatabase ?? true
        } else {
            self.blobsInDatabase = blobsInDatabase ?? false
        }
        self.bcryptCost = bcryptCost
        self.secureCookies = secureCookies
    }

    /// `DATABASE_URL` selects PostgreSQL; otherwise `tandem.sqlite` in the working directory.
    public static func fromEnvironment() -> AppOptions {
        let storage: Storage =
            Environment.get("DATABASE_URL").flatMap { $0.isEmpty ? nil : Storage.postgres(url: $0) }
            ?? .sqlite(path: Environment.get("TANDEM_SQLITE_PATH") ?? "tandem.sqlite")
        return AppOptions(
            storage: storage,
            blobDirectory: Environment.get("TANDEM_BLOB_DIR") ?? "data/blobs",
            blobsInDatabase: Environment.get("TANDEM_BLOB_STORE").map { $0 == "database" },
            bcryptCost: Environment.get("TANDEM_BCRYPT_COST").flatMap(Int.init) ?? 12,
            secureCookies: Environment.get("TANDEM_SECURE_COOKIES") == "1" || (Environment.get("TANDEM_PUBLIC_URL")?.hasPrefix("https://") ?? false),
            metricsToken: Environment.get("TANDEM_METRICS_TOKEN").flatMap { $0.isEmpty ? nil : $0 },
            metricsAllowedAddresses: Environment.get("TANDEM_METRICS_ALLOW").flatMap { list in
                let addresses = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
                return addresses.isEmpty ? nil : addresses
            },
            resourcesDirectory: Environment.get("TANDEM_RESOURCES")
        )
        .with {
            $0.smtpURL = Environment.get("TANDEM_SMTP_URL").flatMap { $0.isEmpty ? nil : $0 }
            $0.mailFrom = Environment.get("TANDEM_MAIL_FROM").flatMap { $0.isEmpty ? nil : $0 }
            $0.publicURL = Environment.get("TANDEM_PUBLIC_URL").flatMap { $0.isEmpty ? nil : $0 }
            $0.vaultKeyFile = Environment.get("TANDEM_VAULT_KEY_FILE").flatMap { $0.isEmpty ? nil : $0 }
            $0.vaultKeyText = Environment.get("TANDEM_VAULT_KEY").flatMap { $0.isEmpty ? nil : $0 }
            // Read since the scale check needed it: the option was documented and checked, but never read.
            $0.webhookAllowedRanges = (Environment.get("TANDEM_WEBHOOK_ALLOW") ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
            $0.trustedProxies = (Environment.get("TANDEM_TRUSTED_PROXIES") ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
            $0.publicMailDomains = (Environment.get("TANDEM_PUBLIC_MAIL_DOMAINS") ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
            if let seconds = Environment.get("TANDEM_OUTBOX_LEASE_SECONDS").flatMap(Double.init), seconds >= 5, seconds <= 86_400 {
                $0.outboxLease = seconds
            }
            if let hours = Environment.get("TANDEM_DUE_SOON_HOURS").flatMap(Double.init), hours > 0, hours <= 24 * 365 { $0.dueSoonHours = hours }
            // The server runs the background work unless `--no-workers` or TANDEM_WORKERS=0; `tandem worker` runs
            // it alone (`WorkerCommand`); other commands never do.
            let given = Array(CommandLine.arguments.dropFirst())
            let serving = serves(given)
            $0.runsWorkers = serving && !given.contains("--no-workers") && Environment.get("TANDEM_WORKERS") != "0"
            // Only a process that answers requests reads tokens: a worker or a command would hold a listening connection for nothing.
            $0.tokenCache = serving && Environment.get("TANDEM_TOKEN_CACHE") != "off"
            if serving, let port = SMTPListen.port(arguments: given, environment: Environment.get("TANDEM_SMTP_PORT")) {
                $0.smtpListen = SMTPListen(
                    host: Environment.get("TANDEM_SMTP_HOST").flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1",
                    port: Int(port.trimmingCharacters(in: .whitespaces)) ?? -1,
                    domains: (Environment.get("TANDEM_SMTP_DOMAINS") ?? "").split(separator: ",").map {
                        $0.trimmingCharacters(in: .whitespaces).lowercased()
                    }.filter { !$0.isEmpty })
            }
        }
    }

    func with(_ change: (inout AppOptions) -> Void) -> AppOptions {
        var options = self
        change(&options)
        return options
    }
}

struct AppSettings: Sendable {
    let options: AppOptions
    let blobs: any BlobStore
    /// Parsed from `options.smtpURL`; nil: mail waits in the outbox.
    var mail: SMTPSettings? = nil
    /// Where webhooks may go: public addresses and `options.webhookAllowedRanges`.
    var webhookGuard = SSRFGuard()
    /// Parsed from `options.trustedProxies`.
    var trustedProxies: [CIDRRange] = []

    /// The sender of Tandem's mail, and the domain of its Message-IDs (which tell its own mail coming back).
    var mailFrom: String { mail?.from ?? "helpdesk@tandem.localhost" }
    var mailDomain: String { String(mailFrom.split(separator: "@").last ?? "tandem.localhost") }
}

extension Application {
    private struct SettingsKey: StorageKey { typealias Value = AppSettings }

    var settings: AppSettings {
        get { storage[SettingsKey.self]! }
        set { storage[SettingsKey.self] = newValue }
    }
}

extension Request {
    var settings: AppSettings { application.settings }

    /// The client's address, through the trusted proxies' `X-Forwarded-For` (`ClientAddress`).
    var clientAddress: String? {
        ClientAddress.resolve(
            peer: remoteAddress?.ipAddress, forwardedFor: headers[.xForwardedFor], trustedProxies: settings.trustedProxies)
    }
}

public func configure(_ app: Application, options: AppOptions = .fromEnvironment()) async throws {
    let vault = Vault(masterKey: try VaultKeys.resolve(options, logger: app.logger))
    switch options.storage {
    case .sqlite(let path):
        app.databases.use(.sqlite(.file(path), sqlLogLevel: .debug), as: .sqlite)
        ClockCompanion.install(options.clock, on: app, databases: [.sqlite])
        VaultCompanion.install(vault, on: app, databases: [.sqlite])
        SQLiteGroupCommit.install(on: app, path: path, clock: options.clock, vault: vault)
    case .postgres(let url):
        var configuration = try SQLPostgresConfiguration(url: url)
        configuration.searchPath = ["public"]
        app.databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: 4, sqlLogLevel: .debug), as: .psql)
        PostgresBatcher.install(on: app)
        if options.tokenCache { TokenCache.install(on: app, configuration: configuration) }
        ClockCompanion.install(options.clock, on: app, databases: [.psql])
        VaultCompanion.install(vault, on: app, databases: [.psql])
    }
    app.migrations.add(Migrations.all)
    if case .sqlite = options.storage {
        // WAL persists in the file; synchronous=FULL (SQLite's default here) makes every commit durable.
        try await app.db.sql.raw("PRAGMA journal_mode = WAL").run()
        try await SQLiteDirect.optimize(app.db)
    }

    let blobs: any BlobStore =
        options.blobsInDatabase
        ? DatabaseBlobStore()
        : DirectoryBlobStore(directory: URL(fileURLWithPath: options.blobDirectory, isDirectory: true))
    let mail = try options.smtpURL.map { url in
        try SMTPSettings.parse(url: url, from: options.mailFrom ?? "helpdesk@\(URLComponents(string: options.publicURL ?? "")?.host ?? "tandem.localhost")")
    }
    let allowed = try options.webhookAllowedRanges.map { text in
        guard let range = CIDRRange(text) else {
            throw TandemError.invalid("TANDEM_WEBHOOK_ALLOW", "TANDEM_WEBHOOK_ALLOW: '\(text)' is not an address range such as 10.1.0.0/16")
        }
        return range
    }
    let proxies = try options.trustedProxies.map { text in
        guard let range = CIDRRange(text) else {
            throw TandemError.invalid("TANDEM_TRUSTED_PROXIES", "TANDEM_TRUSTED_PROXIES: '\(text)' is not an address range such as 127.0.0.1/32")
        }
        return range
    }
    app.settings = AppSettings(
        options: options, blobs: blobs, mail: mail, webhookGuard: SSRFGuard(allowedRanges: allowed), trustedProxies: proxies)
    app.passwords.use(.bcrypt(cost: options.bcryptCost))

    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = ISO8601.encodingStrategy  // what .iso8601 writes, without a formatter per date
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = ISO8601.decodingStrategy  // refuses 2026-02-30 where .iso8601 rolled it over
    ContentConfiguration.global.use(encoder: encoder, for: .json)
    ContentConfiguration.global.use(decoder: decoder, for: .json)

    app.routes.defaultMaxBodySize = "1mb"
    // Templates, the OpenAPI document and the stylesheet are read through `app.directory`.
    app.directory = DirectoryConfiguration(workingDirectory: try ResourceRoot.locate(explicit: options.resourcesDirectory))
    app.views.use(.leaf)
    app.leaf.configuration.rootDirectory = app.directory.resourcesDirectory + "Views/"

    let inFlight = InFlightRequests()
    app.inFlightRequests = inFlight
    app.middleware = .init()
    app.middleware.use(inFlight)
    app.middleware.use(HeaderGuardMiddleware())
    app.middleware.use(RouteLoggingMiddleware(logLevel: .info))
    app.middleware.use(ProblemMiddleware())
    app.middleware.use(MethodNotAllowedMiddleware())
    app.middleware.use(TokenAuthenticator())

    try routes(app)
    if options.runsWorkers { app.lifecycle.use(BackgroundWork()) }
    if let listen = options.smtpListen {
        guard (0...65535).contains(listen.port) else {
            throw TandemError.invalid("--smtp-port", "must be a port number from 0 to 65535 (or TANDEM_SMTP_PORT)")
        }
        let listener = SMTPListener(.init(host: listen.host, port: listen.port, domains: listen.domains))
        app.smtpListener = listener
        app.lifecycle.use(listener)
    }
    app.allowedMethods = AllowedMethods(app.routes)
    registerCommands(app)
    // Last, so that on shutdown it runs first (handlers shut down in reverse).
    app.lifecycle.use(StopServingFirst(inFlight: inFlight))
}
