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

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
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
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(0x7B)  // {
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out.append(0x2C) }
            appendString(key, to: &out)
            out.append(0x3A)
            appendString(fields[key]!, to: &out)
        }
        out.append(0x7D)
        out.append(0x0A)
        return Data(out)
    }

    /// A JSON string literal, escaped as `JSONEncoder` escapes it (including `/` as `\/`).
    static func appendString(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x2F: out.append(0x5C); out.append(0x2F)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            case 0x09: out.append(0x5C); out.append(0x74)
            case 0x08: out.append(0x5C); out.append(0x62)
            case 0x0C: out.append(0x5C); out.append(0x66)
            case 0..<0x20:
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}

public enum AppMetricsBootstrap {
    public static func run() { AppMetrics.bootstrap() }
}
