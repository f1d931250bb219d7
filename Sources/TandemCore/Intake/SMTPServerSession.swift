import Foundation

/// One reply of an SMTP server (RFC 5321 §4.2): a code and one or more lines of text.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    public init(_ code: Int, _ lines: String...) {
        self.init(code, lines: lines)
    }

    public init(_ code: Int, lines: [String]) {
        self.code = code
        // A reply is printable ASCII: never a line break or a control character of the sender's.
        self.lines = (lines.isEmpty ? [""] : lines).map { line in
            var scalars = String.UnicodeScalarView()
            for scalar in line.unicodeScalars.prefix(400) {
                scalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? " " : scalar.value > 0x7F ? "?" : scalar)
            }
            return String(scalars)
        }
    }

    /// The reply on the wire: `250-first`, …, `250 last`, each line ended by CRLF.
    public var wire: String {
        lines.enumerated().map { index, line in "\(code)\(index == lines.count - 1 ? " " : "-")\(line)\r\n" }.joined()
    }

    public var description: String { lines.map { "\(code) \($0)" }.joined(separator: "\n") }
}

/// A message taken by DATA: the envelope and the text with the dot-stuffing undone (CRLF line ends).
public struct SMTPMessage: Sendable, Equatable {
    /// The MAIL FROM address; nil for the null reverse-path `<>` (bounces).
    public var reversePath: String?
    public var recipients: [String]
    public var data: [UInt8]
}

/// What the server side takes, and how much of it.
public struct SMTPServerConfiguration: Sendable, Equatable {
    /// Named in the greeting and the EHLO reply.
    public var hostname: String
    /// The largest message (advertised as `SIZE`); DATA past it is dropped and refused with 552.
    public var maxMessageBytes: Int
    /// Recipient domains accepted (lowercase); empty: any.
    public var acceptedDomains: [String]
    public var maxRecipients: Int
    /// A command line longer than this (without its line end) is refused with 500.
    public var maxCommandLineBytes: Int
    /// After this many refused commands in one session the server says 421 and closes.
    public var maxErrors: Int

    public init(
        hostname: String, maxMessageBytes: Int, acceptedDomains: [String] = [], maxRecipients: Int = 100, maxCommandLineBytes: Int = 1000,
        maxErrors: Int = 20
    ) {
        self.hostname = hostname
        self.maxMessageBytes = maxMessageBytes
        self.acceptedDomains = acceptedDomains.map { $0.lowercased() }
        self.maxRecipients = maxRecipients
        self.maxCommandLineBytes = maxCommandLineBytes
        self.maxErrors = maxErrors
    }
}

/// The server side of an SMTP session (RFC 5321), without any networking: bytes go in with
/// `receive`, and `next` hands out what to do, in order: a reply to send, a message to deliver
/// (its reply is the deliverer's: send it before asking `next` again), or a last reply before
/// closing. Commands that arrive together (PIPELINING) are answered one by one, in order.
///
/// Memory stays bounded: a command line over the limit is dropped as it arrives, and DATA past the
/// message size limit is counted, not kept.
public struct SMTPServerSession: Sendable {
    public enum Output: Sendable, Equatable {
        case reply(SMTPReply)
        /// A whole message: deliver it, then send the delivery's reply.
        case message(SMTPMessage)
        /// Send this reply, then close the connection.
        case close(SMTPReply)
    }

    enum Phase: Sendable, Equatable {
        /// Before EHLO or HELO.
        case connected
        case greeted
        /// After MAIL FROM.
        case mail
        /// Reading the message after DATA's 354.
        case data
        case closed
    }

    public let configuration: SMTPServerConfiguration
    private(set) var phase = Phase.connected
    private var reversePath: String?
    private var recipients: [String] = []
    private var message: [UInt8] = []
    private var messageBytes = 0
    private var atLineStart = true
    private var buffer: [UInt8] = []
    private var position = 0
    /// A command line over the limit is being dropped until its end.
    private var discardingLine = false
    private var errors = 0

    public init(configuration: SMTPServerConfiguration) {
        self.configuration = configuration
    }

    public var greeting: SMTPReply { SMTPReply(220, "\(configuration.hostname) ESMTP Tandem mail intake") }

    /// The reply before closing a session that said nothing for too long.
    public var timeoutReply: SMTPReply { SMTPReply(421, "4.4.2 \(configuration.hostname) Idle too long, closing connection") }

    /// The reply before closing because the server stops.
    public var shutdownReply: SMTPReply { SMTPReply(421, "4.3.2 \(configuration.hostname) Service shutting down, try again later") }

    /// Whether the session waits in the middle of a message (DATA).
    public var isReadingMessage: Bool { phase == .data }

    /// Takes bytes from the connection; `next` reads them.
    public mutating func receive(_ bytes: some Collection<UInt8>) {
        guard phase != .closed else { return }
        if position > 0, position >= buffer.count / 2 {
            buffer.removeFirst(position)
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next thing to do, or nil when more bytes are needed.
    public mutating func next() -> Output? {
        while phase != .closed {
            if phase == .data {
                if let output = readMessage() { return output }
                return nil
            }
            guard let line = takeCommandLine() else { return nil }
            guard let line else {
                return refuse(SMTPReply(500, "5.5.2 Line too long (at most \(configuration.maxCommandLineBytes) characters)"))
            }
            return command(line)
        }
        return nil
    }

    // MARK: Lines

    /// A command line without its line end (CRLF, or a bare LF); `.some(nil)` for a line over the
    /// limit; nil while the line is incomplete.
    private mutating func takeCommandLine() -> String?? {
        guard let newline = buffer[position...].firstIndex(of: 0x0A) else {
            if buffer.count - position > configuration.maxCommandLineBytes + 1 {
                discardingLine = true
                buffer.removeAll(keepingCapacity: true)
                position = 0
            }
            return nil
        }
        var end = newline
        if end > position, buffer[end - 1] == 0x0D { end -= 1 }
        let bytes = buffer[position..<end]
        position = newline + 1
        if discardingLine || bytes.count > configuration.maxCommandLineBytes {
            discardingLine = false
            return .some(nil)
        }
        return .some(String(decoding: bytes, as: UTF8.self))
    }

    /// Reads the message up to `CRLF.CRLF`, undoing the dot-stuffing (RFC 5321 §4.5.2).
    private mutating func readMessage() -> Output? {
        while true {
            guard let newline = buffer[position...].firstIndex(of: 0x0A) else {
                // A long line without an end yet: keep what is safe to keep (not a trailing CR, which
                // may begin the line end), so a line never fills the memory.
                var end = buffer.count
                if end > position, buffer[end - 1] == 0x0D { end -= 1 }
                if end - position >= 1024 {
                    var start = position
                    if atLineStart, buffer[start] == UInt8(ascii: ".") { start += 1 }
                    append(buffer[start..<end])
                    atLineStart = false
                    position = end
                }
                return nil
            }
            var end = newline
            if end > position, buffer[end - 1] == 0x0D { end -= 1 }
            var start = position
            position = newline + 1
            if atLineStart, start < end, buffer[start] == UInt8(ascii: ".") {
                if end - start == 1 { return endOfMessage() }
                start += 1
            }
            append(buffer[start..<end])
            append([0x0D, 0x0A])
            atLineStart = true
        }
    }

    private mutating func append(_ bytes: some Collection<UInt8>) {
        messageBytes += bytes.count
        if messageBytes <= configuration.maxMessageBytes {
            message.append(contentsOf: bytes)
        } else if !message.isEmpty {
            message = []
        }
    }

    private mutating func endOfMessage() -> Output {
        let output: Output
        if messageBytes > configuration.maxMessageBytes {
            output = .reply(SMTPReply(552, "5.3.4 Message too big (at most \(configuration.maxMessageBytes) bytes)"))
        } else {
            output = .message(SMTPMessage(reversePath: reversePath, recipients: recipients, data: message))
        }
        resetTransaction()
        phase = .greeted
        return output
    }

    private mutating func resetTransaction() {
        reversePath = nil
        recipients = []
        message = []
        messageBytes = 0
        atLineStart = true
        if phase == .mail || phase == .data { phase = .greeted }
    }

    // MARK: Commands

    private mutating func command(_ line: String) -> Output {
        let verbEnd = line.firstIndex(of: " ") ?? line.endIndex
        let verb = line[..<verbEnd].uppercased()
        let argument = line[verbEnd...].trimmingCharacters(in: .whitespaces)
        switch verb {
        case "EHLO", "HELO":
            guard !argument.isEmpty else { return refuse(SMTPReply(501, "5.5.4 Syntax: \(verb) hostname")) }
            resetTransaction()
            phase = .greeted
            if verb == "HELO" { return .reply(SMTPReply(250, configuration.hostname)) }
            return .reply(
                SMTPReply(
                    250,
                    lines: [
                        "\(configuration.hostname) greets \(argument)", "SIZE \(configuration.maxMessageBytes)", "8BITMIME", "PIPELINING",
                        "ENHANCEDSTATUSCODES",
                    ]))
        case "MAIL":
            return mail(argument)
        case "RCPT":
            return recipient(argument)
        case "DATA":
            guard argument.isEmpty else { return refuse(SMTPReply(501, "5.5.4 Syntax: DATA")) }
            guard phase == .mail else {
                return refuse(SMTPReply(503, phase == .connected ? "5.5.1 Send EHLO or HELO first" : "5.5.1 Send MAIL FROM first"))
            }
            guard !recipients.isEmpty else { return refuse(SMTPReply(503, "5.5.1 No valid recipients")) }
            phase = .data
            atLineStart = true
            return .reply(SMTPReply(354, "End data with <CR><LF>.<CR><LF>"))
        case "RSET":
            guard argument.isEmpty else { return refuse(SMTPReply(501, "5.5.4 Syntax: RSET")) }
            resetTransaction()
            return .reply(SMTPReply(250, "2.0.0 Ok"))
        case "NOOP":
            return .reply(SMTPReply(250, "2.0.0 Ok"))
        case "QUIT":
            phase = .closed
            return .close(SMTPReply(221, "2.0.0 \(configuration.hostname) Bye"))
        case "VRFY":
            return .reply(SMTPReply(252, "2.5.0 Cannot verify the user, but will take a message for it"))
        case "HELP":
            return .reply(SMTPReply(214, "2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY"))
        case "EXPN", "STARTTLS", "AUTH", "BDAT", "ETRN", "TURN":
            return refuse(SMTPReply(502, "5.5.1 \(verb) is not implemented"))
        default:
            return refuse(SMTPReply(500, "5.5.2 Command not recognized"))
        }
    }

    private mutating func mail(_ argument: String) -> Output {
        guard phase != .connected else { return refuse(SMTPReply(503, "5.5.1 Send EHLO or HELO first")) }
        guard phase == .greeted else { return refuse(SMTPReply(503, "5.5.1 Nested MAIL command")) }
        guard let (path, parameters) = Self.path(argument, keyword: "FROM:") else {
            return refuse(SMTPReply(501, "5.5.4 Syntax: MAIL FROM:<address>"))
        }
        guard path.isEmpty || Self.isAddress(path) else { return refuse(SMTPReply(501, "5.1.7 Bad sender address syntax")) }
        for parameter in parameters {
            let (key, value) = Self.split(parameter)
            switch key {
            case "SIZE":
                guard let value, let size = Int(value), size >= 0 else { return refuse(SMTPReply(501, "5.5.4 Bad SIZE parameter")) }
                if size > configuration.maxMessageBytes {
                    return refuse(SMTPReply(552, "5.3.4 Message too big (at most \(configuration.maxMessageBytes) bytes)"))
                }
            case "BODY":
                guard let value, ["7BIT", "8BITMIME"].contains(value.uppercased()) else {
                    return refuse(SMTPReply(501, "5.5.4 Bad BODY parameter"))
                }
            default:
                return refuse(SMTPReply(555, "5.5.4 Unsupported parameter \(key)"))
            }
        }
        reversePath = path.isEmpty ? nil : path
        recipients = []
        phase = .mail
        return .reply(SMTPReply(250, "2.1.0 Ok"))
    }

    private mutating func recipient(_ argument: String) -> Output {
        guard phase == .mail else {
            return refuse(SMTPReply(503, phase == .connected ? "5.5.1 Send EHLO or HELO first" : "5.5.1 Send MAIL FROM first"))
        }
        guard let (path, parameters) = Self.path(argument, keyword: "TO:") else { return refuse(SMTPReply(501, "5.5.4 Syntax: RCPT TO:<address>")) }
        guard parameters.isEmpty else { return refuse(SMTPReply(555, "5.5.4 Unsupported parameter \(Self.split(parameters[0]).key)")) }
        let postmaster = path.lowercased() == "postmaster"
        guard postmaster || Self.isAddress(path) else { return refuse(SMTPReply(501, "5.1.3 Bad recipient address syntax")) }
        guard recipients.count < configuration.maxRecipients else { return refuse(SMTPReply(452, "4.5.3 Too many recipients")) }
        if !postmaster, !configuration.acceptedDomains.isEmpty {
            let domain = path[path.index(after: path.lastIndex(of: "@")!)...].lowercased()
            guard configuration.acceptedDomains.contains(domain) else {
                return refuse(SMTPReply(550, "5.1.1 <\(path)>: Recipient address rejected: not a help desk address"))
            }
        }
        recipients.append(path)
        return .reply(SMTPReply(250, "2.1.5 Ok"))
    }

    /// A refusal; too many of them end the session.
    private mutating func refuse(_ reply: SMTPReply) -> Output {
        errors += 1
        if errors >= configuration.maxErrors {
            phase = .closed
            return .close(SMTPReply(421, "4.7.0 \(configuration.hostname) Too many errors, closing connection"))
        }
        return .reply(reply)
    }

    // MARK: Grammar

    /// `FROM:<path> params` or `TO:<path> params` (a space after the colon is tolerated): the path
    /// inside the brackets (a source route `@a,@b:` dropped) and the parameters.
    static func path(_ argument: String, keyword: String) -> (String, [String])? {
        guard argument.uppercased().hasPrefix(keyword) else { return nil }
        let rest = argument.dropFirst(keyword.count).drop(while: { $0 == " " })
        guard rest.first == "<", let close = rest.firstIndex(of: ">") else { return nil }
        var path = String(rest[rest.index(after: rest.startIndex)..<close])
        if path.hasPrefix("@"), let colon = path.firstIndex(of: ":") { path = String(path[path.index(after: colon)...]) }
        let tail = rest[rest.index(after: close)...]
        if let first = tail.first, first != " " { return nil }
        return (path, tail.split(separator: " ").map(String.init))
    }

    /// `local@domain`: a simple check of the shape (the message's own headers are parsed later).
    static func isAddress(_ path: String) -> Bool {
        guard let at = path.lastIndex(of: "@") else { return false }
        let local = path[..<at], domain = path[path.index(after: at)...]
        return !local.isEmpty && !domain.isEmpty && local.count <= 64 && domain.count <= 255
            && !path.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true })
    }

    static func split(_ parameter: String) -> (key: String, value: String?) {
        guard let equals = parameter.firstIndex(of: "=") else { return (parameter.uppercased(), nil) }
        return (parameter[..<equals].uppercased(), String(parameter[parameter.index(after: equals)...]))
    }
}
