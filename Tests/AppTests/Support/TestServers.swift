import Foundation
import TandemCore

/// A real SMTP server for a test (`scripts/smtp-sink.py`, aiosmtpd) on 127.0.0.1.
final class SMTPSink: @unchecked Sendable {
    struct Message: Decodable {
        let from: String
        let to: [String]
        let data: String

        /// The value of the first header `name` (unfolded), or nil.
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The header block as (name, unfolded value) pairs.
        var headers: [(name: String, value: String)] {
            let head = data.components(separatedBy: "\r\n\r\n").first ?? ""
            var result: [(String, String)] = []
            for line in head.components(separatedBy: "\r\n") {
                if line.first == " " || line.first == "\t", let last = result.popLast() {
                    result.append((last.0, last.1 + line))
                } else if let colon = line.firstIndex(of: ":") {
                    result.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
                }
            }
            return result
        }
    }

    private let server: ScriptServer
    var port: Int { server.port }

    /// `tls`: STARTTLS with a self-signed certificate; `auth`: "user:password" required.
    init(port: Int = 0, tls: Bool = false, auth: String? = nil, reject: [String] = []) throws {
        var arguments = ["--port", String(port)]
        if tls { arguments.append("--tls") }
        if let auth { arguments += ["--auth", auth] }
        for address in reject { arguments += ["--reject", address] }
        server = try ScriptServer("smtp-sink.py", arguments, hint: "is aiosmtpd installed? pip install aiosmtpd")
    }

    func stop() { server.stop() }

    /// The messages received so far.
    func messages() throws -> [Message] { try server.received() }

    /// Waits until `count` messages have arrived (the sink writes each before it answers 250).
    func waitFor(_ count: Int, timeout: TimeInterval = 10) async throws -> [Message] { try await server.waitFor(count, timeout: timeout) }

    func settings(username: String? = nil, password: String? = nil, security: SMTPSettings.Security = .none) -> SMTPSettings {
        SMTPSettings(
            host: "127.0.0.1", port: port, security: security, username: username, password: password, from: "helpdesk@msp.example",
            verifyCertificate: false)
    }
}

/// A webhook receiver for a test (`scripts/webhook-sink.py`): `/redirect` answers 302 to loopback,
/// `/fail` 500, anything else 204 after keeping the call.
final class WebhookSink: @unchecked Sendable {
    struct Call: Decodable {
        let path: String
        let headers: [String: String]
        let body: String

        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    private let server: ScriptServer
    var port: Int { server.port }

    init() throws { server = try ScriptServer("webhook-sink.py", []) }

    func stop() { server.stop() }
    func calls() throws -> [Call] { try server.received() }
    func waitFor(_ count: Int, timeout: TimeInterval = 10) async throws -> [Call] { try await server.waitFor(count, timeout: timeout) }
}

/// A server of `scripts/` started for one test: it takes a directory to keep what it receives (one
/// JSON file each), prints "ready <port>", and stops when its standard input closes.
final class ScriptServer: @unchecked Sendable {
    let port: Int
    let directory: URL
    private let process: Process
    private let input: Pipe

    init(_ script: String, _ arguments: [String], hint: String = "") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(script)-\(UUID().uuidString)", isDirectory: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.scripts.appendingPathComponent(script).path, directory.path] + arguments
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // The first line is "ready <port>", or nothing when it failed to start.
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        guard let text = String(data: line, encoding: .utf8), text.hasPrefix("ready "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw TestSetupError("\(script) did not start \(hint)")
        }
        self.port = port
    }

    deinit { stop() }

    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    func received<T: Decodable>() throws -> [T] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.creationDateKey])) ?? []
        return try files.filter { $0.pathExtension == "json" }.map { ($0, try Data(contentsOf: $0)) }
            .sorted { $0.0.path < $1.0.path }.map { try JSONDecoder().decode(T.self, from: $0.1) }
    }

    func waitFor<T: Decodable>(_ count: Int, timeout: TimeInterval) async throws -> [T] {
        let deadline = Date() + timeout
        while true {
            let found: [T] = try received()
            if found.count >= count || Date() > deadline { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")
}
