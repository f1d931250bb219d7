import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TandemCore
import Vapor

/// Mail intake over SMTP (`tandem serve --smtp-port N`): a small SMTP server on SwiftNIO for the
/// MTA in front of the help desk. Every message it takes goes through `MailIntake.receive`, as the
/// HTTP intake's do; its reply says what the message became, or why it was refused (5xx), or to try
/// again later (4xx, when the database is away: the sender keeps the message and retries).
///
/// The conversation is the core's `SMTPServerSession`; this is the socket around it: the server
/// channel, a session per connection (at most `maxSessions`), the idle timeout, and a clean stop.
/// No TLS and no AUTH: it listens on loopback, or an address the operator puts behind their MTA.
final class SMTPListener: LifecycleHandler, Sendable {
    struct Configuration: Sendable {
        var host = "127.0.0.1"
        /// 0 picks a free port (tests); `port` tells which.
        var port = 2525
        var maxMessageBytes = MailIntake.limits.maxTotalBytes
        /// Recipient domains taken (`TANDEM_SMTP_DOMAINS`); empty: any.
        var domains: [String] = []
        var maxSessions = 100
        var idleTimeout = TimeAmount.minutes(5)
        /// How long a stop waits for sessions in the middle of a delivery before closing them.
        var shutdownGrace = TimeAmount.seconds(30)
    }

    private struct Running: Sendable {
        let server: any Channel
        let task: Task<Void, Never>
        let port: Int
    }

    let configuration: Configuration
    private let running = NIOLockedValueBox<Running?>(nil)
    private let sessions = Sessions()

    init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// The port it listens on, once started.
    var port: Int? { running.withLockedValue { $0?.port } }

    /// Starts a listener for `app` (one that stops with the app) and answers it; tests read `port`.
    @discardableResult
    static func start(_ app: Application, _ configuration: Configuration) async throws -> SMTPListener {
        let listener = SMTPListener(configuration)
        try await listener.start(app)
        app.smtpListener = listener
        app.lifecycle.use(listener)
        return listener
    }

    func didBootAsync(_ application: Application) async throws {
        try await start(application)
    }

    func shutdownAsync(_ application: Application) async {
        await stop(application)
    }

    /// Binds and starts taking connections; a second call does nothing.
    func start(_ app: Application) async throws {
        guard port == nil else { return }
        let conversation = SMTPServerConfiguration(
            hostname: app.settings.mailDomain, maxMessageBytes: configuration.maxMessageBytes, acceptedDomains: configuration.domains)
        let sample = SMTPServerSession(configuration: conversation)
        let (timeoutReply, shutdownReply) = (sample.timeoutReply.wire, sample.shutdownReply.wire)
        let idleTimeout = configuration.idleTimeout
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: app.eventLoopGroup)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handlers = channel.pipeline.syncOperations
                        try handlers.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                        try handlers.addHandler(SessionGuard(timeoutReply: timeoutReply, shutdownReply: shutdownReply))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw CommandFailure("cannot listen for SMTP on \(configuration.host):\(configuration.port): \(error)")
        }
        let port = server.channel.localAddress?.port ?? configuration.port
        let sessions = self.sessions
        let maxSessions = configuration.maxSessions
        let task = Task.detached {
            do {
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await connection in inbound {
                            guard sessions.add(connection.channel, limit: maxSessions) else {
                                group.addTask {
                                    try? await connection.executeThenClose { _, outbound in
                                        try await outbound.write(ByteBuffer(string: SMTPReply(421, "4.3.2 Too many connections, try again later").wire))
                                    }
                                }
                                continue
                            }
                            group.addTask {
                                await Self.serve(connection, conversation, sessions: sessions, app: app)
                                sessions.remove(connection.channel)
                            }
                        }
                    }
                }
            } catch {
                app.logger.debug("SMTP intake listener ended", metadata: ["error": .string("\(error)")])
            }
        }
        running.withLockedValue { $0 = Running(server: server.channel, task: task, port: port) }
        app.logger.info("SMTP intake listening on \(configuration.host):\(port)")
    }

    /// Stops taking connections; sessions waiting for a command are told 421 and closed, one in the
    /// middle of a delivery closes after its reply (or after the grace period).
    func stop(_ app: Application) async {
        guard let current = running.withLockedValue({ $0 }) else { return }
        try? await current.server.close()
        sessions.stop()
        let grace = configuration.shutdownGrace
        let sessions = self.sessions
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await current.task.value }
            group.addTask {
                try? await Task.sleep(for: .nanoseconds(grace.nanoseconds))
                if !Task.isCancelled { sessions.closeAll() }
            }
            _ = await group.next()
            group.cancelAll()
        }
        running.withLockedValue { $0 = nil }
        app.logger.info("SMTP intake stopped")
    }

    /// One connection: the greeting, then the session's replies, a delivery for every message.
    private static func serve(
        _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, _ configuration: SMTPServerConfiguration, sessions: Sessions, app: Application
    ) async {
        let channel = connection.channel
        do {
            try await connection.executeThenClose { inbound, outbound in
                var session = SMTPServerSession(configuration: configuration)
                try await outbound.write(ByteBuffer(string: session.greeting.wire))
                var pending = ByteBuffer()
                for try await bytes in inbound {
                    session.receive(bytes.readableBytesView)
                    while let output = session.next() {
                        switch output {
                        case .reply(let reply):
                            pending.writeString(reply.wire)
                        case .close(let reply):
                            pending.writeString(reply.wire)
                            try await outbound.write(pending)
                            return
                        case .message(let message):
                            // What was answered so far goes out first (PIPELINING keeps the order).
                            if pending.readableBytes > 0 {
                                try await outbound.write(pending)
                                pending.clear()
                            }
                            guard sessions.beginDelivery(channel) else { return }
                            pending.writeString(await deliver(message, app: app).wire)
                            if sessions.endDelivery(channel) {
                                pending.writeString(session.shutdownReply.wire)
                                try await outbound.write(pending)
                                return
                            }
                        }
                    }
                    if pending.readableBytes > 0 {
                        try await outbound.write(pending)
                        pending.clear()
                    }
                }
            }
        } catch {
            app.logger.debug("SMTP session ended", metadata: ["error": .string("\(error)")])
        }
    }

    /// Hands the message to the intake; the reply says what it became.
    static func deliver(_ message: SMTPMessage, app: Application) async -> SMTPReply {
        do {
            let result = try await MailIntake.receive(message.data, envelopeFrom: message.reversePath, settings: app.settings, on: app.db)
            let id = result.ticketId ?? result.triageId
            app.logger.info(
                "SMTP message taken",
                metadata: [
                    "outcome": .string(result.outcome), "id": .string(id ?? ""), "from": .string(message.reversePath ?? "<>"),
                    "bytes": .stringConvertible(message.data.count),
                ])
            return SMTPReply(250, "2.0.0 Ok: \(result.outcome)" + (id.map { " \($0)" } ?? ""))
        } catch TandemError.badRequest(let reason) {
            app.logger.info("SMTP message refused", metadata: ["reason": .string(reason), "from": .string(message.reversePath ?? "<>")])
            return SMTPReply(554, "5.6.0 \(reason)")
        } catch TandemError.payloadTooLarge(let reason) {
            return SMTPReply(552, "5.3.4 \(reason)")
        } catch {
            // The database is away (or another failure of ours): the sender keeps the message and retries.
            app.logger.error("SMTP message not taken, the sender is asked to retry", metadata: ["error": .string("\(error)")])
            return SMTPReply(451, "4.3.0 Try again later")
        }
    }

    /// The open sessions: how many (against the cap), which are in the middle of a delivery, and
    /// the stop (idle ones close at once, busy ones after their reply).
    private final class Sessions: Sendable {
        private struct Entry {
            let channel: any Channel
            var busy = false
            var closing = false
        }

        private struct State {
            var entries: [ObjectIdentifier: Entry] = [:]
            var stopping = false
        }

        private let state = NIOLockedValueBox(State())

        func add(_ channel: any Channel, limit: Int) -> Bool {
            state.withLockedValue { state in
                guard !state.stopping, state.entries.count < limit else { return false }
                state.entries[ObjectIdentifier(channel)] = Entry(channel: channel)
                return true
            }
        }

        func remove(_ channel: any Channel) {
            _ = state.withLockedValue { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
        }

        /// False when the session is being closed: the message is not taken.
        func beginDelivery(_ channel: any Channel) -> Bool {
            state.withLockedValue { state in
                guard state.entries[ObjectIdentifier(channel)]?.closing == false else { return false }
                state.entries[ObjectIdentifier(channel)]?.busy = true
                return true
            }
        }

        /// True when the listener stops: the session says 421 and closes.
        func endDelivery(_ channel: any Channel) -> Bool {
            state.withLockedValue { state in
                state.entries[ObjectIdentifier(channel)]?.busy = false
                return state.entries[ObjectIdentifier(channel)]?.closing ?? true
            }
        }

        func stop() {
            let idle = state.withLockedValue { state in
                state.stopping = true
                var idle: [any Channel] = []
                for (key, entry) in state.entries {
                    state.entries[key]?.closing = true
                    if !entry.busy { idle.append(entry.channel) }
                }
                return idle
            }
            for channel in idle { channel.pipeline.fireUserInboundEventTriggered(SessionGuard.Stop()) }
        }

        func closeAll() {
            for channel in state.withLockedValue({ $0.entries.values.map(\.channel) }) { channel.close(promise: nil) }
        }
    }

    /// Says 421 and closes a session that was quiet for the idle timeout, or when the listener stops.
    private final class SessionGuard: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        struct Stop: Sendable {}

        let timeoutReply: String
        let shutdownReply: String

        init(timeoutReply: String, shutdownReply: String) {
            self.timeoutReply = timeoutReply
            self.shutdownReply = shutdownReply
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            let reply: String
            if event is IdleStateHandler.IdleStateEvent {
                reply = timeoutReply
            } else if event is Stop {
                reply = shutdownReply
            } else {
                context.fireUserInboundEventTriggered(event)
                return
            }
            let channel = context.channel
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: reply))).whenComplete { _ in channel.close(promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.fireChannelRead(data)
        }
    }
}

extension Application {
    private struct SMTPListenerKey: StorageKey { typealias Value = SMTPListener }

    /// The SMTP intake listener, when this process runs one.
    var smtpListener: SMTPListener? {
        get { storage[SMTPListenerKey.self] }
        set { storage[SMTPListenerKey.self] = newValue }
    }
}
