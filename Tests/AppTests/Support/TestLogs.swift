import Foundation
import Logging

@testable import App

/// Every log line of the test process, all levels, kept while a test captures them, so a test can show
/// that a secret never reaches the logs. Lines at `TANDEM_TEST_LOG_LEVEL` (default warning) and above also
/// go to standard error as JSON, as the server writes them (`JSONLogHandler.line`).
enum TestLogs {
    /// Touched before the first app is made: the logging system is set up once per process.
    static let installed: Void = LoggingSystem.bootstrap { CapturingLogHandler(label: $0) }

    static let printLevel = ProcessInfo.processInfo.environment["TANDEM_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning

    private static let lock = NSLock()
    nonisolated(unsafe) private static var capturing = 0
    nonisolated(unsafe) private static var lines: [String] = []

    /// Whether a line at `level` is kept or printed (formatting it costs, and requests log at trace).
    static func wants(_ level: Logger.Level) -> Bool {
        level >= printLevel || lock.withLock { capturing > 0 }
    }

    static func record(_ line: String) {
        lock.withLock { if capturing > 0 { lines.append(line) } }
    }

    /// Runs `body`, and answers the log lines written meanwhile (by any test running at the same time too).
    static func capture(_ body: () async throws -> Void) async rethrows -> [String] {
        let start = lock.withLock {
            capturing += 1
            return lines.count
        }
        defer {
            lock.withLock {
                capturing -= 1
                if capturing == 0 { lines.removeAll() }
            }
        }
        try await body()
        return lock.withLock { Array(lines[start...]) }
    }
}

struct CapturingLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard TestLogs.wants(event.level) else { return }
        var fields = ["level": event.level.rawValue, "logger": label, "msg": event.message.description]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields[key] = value.description }
        if let error = event.error { fields["error"] = String(describing: error) }
        let line = JSONLogHandler.line(fields)
        TestLogs.record(String(decoding: line, as: UTF8.self))
        if event.level >= TestLogs.printLevel { FileHandle.standardError.write(line) }
    }
}
