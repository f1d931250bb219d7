import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import TandemCore

/// A small SMTP client (RFC 5321) on SwiftNIO: one connection for a run of messages, STARTTLS or
/// implicit TLS (swift-nio-ssl), AUTH PLAIN or LOGIN. Written by hand: no SMTP library is in the
/// package mirror. Replies are read whole (multi-line `250-…`), commands are sent one at a time.
///
/// Errors carry the server's reply, never the credentials (the AUTH lines are never logged or echoed).
enum SMTPClient {
    struct Failure: Error, CustomStringConvertible {
        /// The server's reply code, or nil when the connection failed or broke.
        let code: Int?
        let message: String
        /// A 5xx reply to this message: retrying will not help.
        var permanent: Bool { (code ?? 0) >= 500 }
        var description: String { code.map { "\($0) \(message)" } ?? message }
    }

    /// A message ready for the wire: envelope and the RFC 5322 text (CRLF line ends).
    struct Envelope: Sendable {
        let recipients: [String]
        let data: String
    }

    /// Opens a session, runs `body` with it, then says QUIT and closes.
    static func session<T: Sendable>(
        _ settings: SMTPSettings, on group: any EventLoopGroup, timeout: TimeAmount = .seconds(30),
        _ body: (Session) async throws -> T
    ) async throws -> T {
        let tls: NIOSSLContext? =
            try settings.security == .none
            ? nil
            : {
                var configuration = TLSConfiguration.makeClientConfiguration()
                if !settings.verifyCertificate { configuration.certificateVerification = .none }
                return try NIOSSLContext(configuration: configuration)
            }()
        let channel: NIOAsyncChannel<String, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group).connectTimeout(.seconds(10)).connect(host: settings.host, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    if settings.security == .implicitTLS, let tls {
                        try handlers.addHandler(NIOSSLClientHandler(context: tls, serverHostname: hostname(settings.host)))
                    }
                    try handlers.addHandler(IdleStateHandler(readTimeout: timeout))
                    try handlers.addHandler(CloseWhenIdle())
                    try handlers.addHandler(ByteToMessageHandler(LineDecoder()))
                    return try NIOAsyncChannel<String, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            throw Failure(code: nil, message: "cannot connect to the SMTP server \(settings.host):\(settings.port): \(error)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            let session = Session(settings: settings, channel: channel.channel, lines: inbound.makeAsyncIterator(), outbound: outbound)
            try await session.open(tls: tls)
            let result = try await body(session)
            try? await session.command("QUIT")
            return result
        }
    }

    private static func hostname(_ host: String) -> String? {
        // SNI takes names only, not addresses.
        host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
    }

    /// One SMTP conversation. Not for concurrent use: one message at a time.
    final class Session {
        private let settings: SMTPSettings
        private let channel: any Channel
        private var lines: NIOAsyncChannelInboundStream<String>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        private var extensions: Set<String> = []
        private var authMechanisms: Set<String> = []

        fileprivate init(
            settings: SMTPSettings, channel: any Channel, lines: NIOAsyncChannelInboundStream<String>.AsyncIterator,
            outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        ) {
            self.settings = settings
            self.channel = channel
            self.lines = lines
            self.outbound = outbound
        }

        fileprivate func open(tls: NIOSSLContext?) async throws {
            try expect(await reply(), 220)
            try await hello()
            if settings.security == .startTLS, let tls {
                guard extensions.contains("STARTTLS") else {
                    throw Failure(code: nil, message: "the SMTP server \(settings.host) does not offer STARTTLS")
                }
                try expect(await command("STARTTLS"), 220)
                // The server answered and now waits for the handshake: TLS goes in front of everything.
                try await channel.pipeline.addHandler(
                    NIOSSLClientHandler(context: tls, serverHostname: SMTPClient.hostname(settings.host)), position: .first
                ).get()
                try await hello()
            }
            if let username = settings.username {
                try await authenticate(username, settings.password ?? "")
            }
        }

        /// Sends one message. A refusal of this message (a 4xx or 5xx to MAIL, RCPT or DATA) throws
        /// after RSET, leaving the session ready for the next message.
        func send(_ envelope: Envelope) async throws {
            do {
                try expect(await command("MAIL FROM:<\(try address(settings.from))>"), 250)
                for recipient in envelope.recipients {
                    try expect(await command("RCPT TO:<\(try address(recipient))>"), 250, 251)
                }
                try expect(await command("DATA"), 354)
                try await write(Self.dotStuffed(envelope.data) + ".\r\n")
                try expect(await reply(), 250)
            } catch let failure as Failure where failure.code != nil {
                _ = try? await command("RSET")
                throw failure
            }
        }

        private func hello() async throws {
            let answer = try await command("EHLO \(settings.heloName)")
            try expect(answer, 250)
            extensions = []
            authMechanisms = []
            for line in answer.lines.dropFirst() {
                let words = line.uppercased().split(separator: " ")
                guard let keyword = words.first else { continue }
                extensions.insert(String(keyword))
                if keyword == "AUTH" { authMechanisms.formUnion(words.dropFirst().map(String.init)) }
            }
        }

        private func authenticate(_ username: String, _ password: String) async throws {
            if authMechanisms.contains("PLAIN") {
                let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
                try expect(await command("AUTH PLAIN \(token)"), 235, what: "AUTH PLAIN")
            } else if authMechanisms.contains("LOGIN") {
                try expect(await command("AUTH LOGIN"), 334, what: "AUTH LOGIN")
                try expect(await command(Data(username.utf8).base64EncodedString()), 334, what: "AUTH LOGIN")
                try expect(await command(Data(password.utf8).base64EncodedString()), 235, what: "AUTH LOGIN")
            } else {
                throw Failure(code: nil, message: "the SMTP server \(settings.host) offers no AUTH PLAIN or LOGIN (over TLS, if it needs that)")
            }
        }

        private func address(_ address: String) throws -> String {
            guard MailAddress.isValid(address) else { throw Failure(code: 501, message: "not a mail address: \(address.debugDescription)") }
            return address
        }

        @discardableResult
        fileprivate func command(_ line: String) async throws -> Reply {
            try await write(line + "\r\n")
            return try await reply()
        }

        private func write(_ text: String) async throws {
            try await outbound.write(ByteBuffer(string: text))
        }

        private func reply() async throws -> Reply {
            var reply = Reply(code: 0, lines: [])
            while let line = try await lines.next() {
                guard line.utf8.count >= 3, let code = Int(line.prefix(3)) else {
                    throw Failure(code: nil, message: "the SMTP server sent a malformed reply")
                }
                reply.code = code
                reply.lines.append(String(line.dropFirst(4)))
                if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return reply }
            }
            throw Failure(code: nil, message: "the SMTP server closed the connection or did not answer in time")
        }

        private func expect(_ reply: Reply, _ codes: Int..., what: String? = nil) throws {
            guard codes.contains(reply.code) else {
                // AUTH replies are the server's words; the command (with the credentials) is never quoted.
                throw Failure(code: reply.code, message: (what.map { "\($0): " } ?? "") + reply.lines.joined(separator: " "))
            }
        }

        /// RFC 5321 §4.5.2: a line that starts with "." gets another; the text ends with CRLF.
        static func dotStuffed(_ data: String) -> String {
            var text = data.replacingOccurrences(of: "\r\n.", with: "\r\n..")
            if text.hasPrefix(".") { text = "." + text }
            if !text.hasSuffix("\r\n") { text += "\r\n" }
            return text
        }
    }

    struct Reply {
        var code: Int
        var lines: [String]
    }

    /// CRLF-terminated lines (a bare LF is accepted too).
    private struct LineDecoder: ByteToMessageDecoder {
        typealias InboundOut = String

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                if buffer.readableBytes > 4096 { throw Failure(code: nil, message: "the SMTP server sent a line over 4 KB") }
                return .needMoreData
            }
            let length = newline - buffer.readerIndex
            var line = buffer.readString(length: length) ?? ""
            buffer.moveReaderIndex(forwardBy: 1)
            if line.hasSuffix("\r") { line.removeLast() }
            context.fireChannelRead(Self.wrapInboundOut(line))
            return .continue
        }
    }

    /// Closes the connection when the server has said nothing for the read timeout.
    private final class CloseWhenIdle: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is IdleStateHandler.IdleStateEvent {
                context.close(promise: nil)
            } else {
                context.fireUserInboundEventTriggered(event)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.fireChannelRead(data)
        }
    }
}
