import Foundation
import TandemCore

/// A real SMTP server for a test (`scripts/smtp-sink.py`, aiosmtpd): started on a free port of
/// 127.0.0.1, stopped by `stop()` (or when the test process ends and its pipe closes).
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

    let port: Int
    let directory: URL
    private let process: Process
    private let input: Pipe

    /// `tls`: STARTTLS with a self-signed certificate; `auth`: "user:password" required.
    init(port: Int = 0, tls: Bool = false, auth: String? = nil, reject: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-sink-\(UUID().uuidString)", isDirectory: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", Self.script, directory.path, "--port", String(port)]
        if tls { arguments.append("--tls") }
        if let auth { arguments += ["--auth", auth] }
        for address in reject { arguments += ["--reject", address] }
        process.arguments = arguments
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
            throw TestSetupError("the SMTP sink did not start (is aiosmtpd installed? pip install aiosmtpd)")
        }
        self.port = port
    }

    deinit { stop() }

    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// The messages received so far.
    func messages() throws -> [Message] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return try files.filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }.map {
            try JSONDecoder().decode(Message.self, from: Data(contentsOf: $0))
        }
    }

    /// Waits until `count` messages have arrived (the sink writes each after answering 250).
    func waitFor(_ count: Int, timeout: TimeInterval = 10) async throws -> [Message] {
        let deadline = Date() + timeout
        while true {
            let received = try messages()
            if received.count >= count || Date() > deadline { return received }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func settings(username: String? = nil, password: String? = nil, security: SMTPSettings.Security = .none) -> SMTPSettings {
        SMTPSettings(
            host: "127.0.0.1", port: port, security: security, username: username, password: password, from: "helpdesk@msp.example",
            verifyCertificate: false)
    }

    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/smtp-sink.py").path
}
