import Foundation
import Logging

/// One JSON object per log line, for log shippers.
public struct JSONLogHandler: LogHandler {
    /// `LOG_LEVEL`, read once: Vapor makes a logger (and so a handler) for every request.
    static let environmentLevel: Logger.Level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String) {
        self.init(label: label, level: Self.environmentLevel)
    }

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        var fields: [String: String] = [
            "ts": ISO8601.string(from: Date()),
            "level": level.rawValue,
            "logger": label,
            "msg": message.description,
        ]
        for (key, value) in metadata { fields[key] = value.description }
        if let explicit { for (key, value) in explicit { fields[key] = value.description } }
        FileHandle.standardError.write(Self.line(fields))
    }

    /// The fields as one JSON object with sorted keys and a newline, written directly (what
    /// `JSONEncoder` with `.sortedKeys` wrote, for a fraction of the cost).
    static func line(_ fields: [String: String]) -> Data {
        // The column style escapes `/` as `\/`, as `JSONEncoder` does.
        var json = JSONWriter(capacity: 256, style: .column)
        json.beginObject()
        for key in fields.keys.sorted() { json.member(key: key, fields[key]!) }
        json.endObject()
        return Data(json.bytes + [0x0A])
    }
}

public enum AppMetricsBootstrap {
    public static func run() { AppMetrics.bootstrap() }
}
