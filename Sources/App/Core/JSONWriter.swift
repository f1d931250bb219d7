import Foundation
import NIOCore
import Vapor

/// Writes JSON bytes directly, for the busiest responses (a page of tickets, a created ticket).
///
/// The output is what the API's `JSONEncoder` writes (`ContentConfiguration` in `configure`):
/// keys sorted, nil values left out, `/` not escaped, dates as `ISO8601.string`. Foundation's
/// encoder on Linux spent about 2 µs per field, which made it a large part of a page's CPU.
/// In the `.column` style it writes what `JSONColumn.encode` writes instead (the audit log's JSON).
struct JSONWriter {
    enum Style {
        /// The API's encoder: `/` as is, dates as `ISO8601.string`.
        case api
        /// `JSONColumn`'s encoder: `/` escaped, dates as seconds since 2001 (`Date`'s own `Codable` form).
        case column
    }

    private(set) var bytes: [UInt8] = []
    let style: Style
    /// Whether the object being written has no member yet.
    private var first = true

    init(capacity: Int = 1024, style: Style = .api) {
        self.style = style
        bytes.reserveCapacity(capacity)
    }

    mutating func beginObject() {
        bytes.append(0x7B)
        first = true
    }

    mutating func endObject() {
        bytes.append(0x7D)
        first = false
    }

    mutating func beginArray() {
        bytes.append(0x5B)
        first = true
    }

    mutating func endArray() {
        bytes.append(0x5D)
        first = false
    }

    /// Before an array element (and before each member): the comma after the one before.
    mutating func element() {
        if !first { bytes.append(0x2C) }
        first = false
    }

    /// A member's key (keys are plain ASCII names here, never escaped); the value follows.
    mutating func key(_ name: StaticString) {
        element()
        bytes.append(0x22)
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(0x22)
        bytes.append(0x3A)
    }

    /// JSON written elsewhere (by the database), copied as it is.
    mutating func raw(_ json: String) {
        bytes.append(contentsOf: json.utf8)
    }

    /// A member whose key is not known until run time (log lines).
    mutating func member(key: String, _ value: String) {
        element()
        string(key)
        bytes.append(0x3A)
        string(value)
    }

    mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    mutating func member(_ name: StaticString, _ value: String?) {
        if let value { member(name, value) }
    }

    mutating func member(_ name: StaticString, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func member(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }

    mutating func member(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        switch style {
        case .api:
            key(name)
            // The timestamp's characters never need escaping.
            bytes.append(0x22)
            ISO8601.append(value, to: &bytes)
            bytes.append(0x22)
        case .column:
            key(name)
            // As `JSONEncoder` writes a Double: its shortest description, without a trailing ".0".
            var number = value.timeIntervalSinceReferenceDate.description
            if number.hasSuffix(".0") { number.removeLast(2) }
            bytes.append(contentsOf: number.utf8)
        }
    }

    mutating func member(_ name: StaticString, _ values: [String]) {
        key(name)
        beginArray()
        for value in values {
            element()
            string(value)
        }
        endArray()
    }

    /// A string literal, escaped as the style's `JSONEncoder` escapes it.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// A string literal from its UTF-8 bytes (a text column's value as the database sent it).
    mutating func string(utf8: UnsafeRawBufferPointer) {
        bytes.append(0x22)
        let escapesSlash = style == .column
        var start = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C || (byte == 0x2F && escapesSlash) else { continue }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[start..<index]))
            start = index + 1
            switch byte {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x2F: bytes.append(contentsOf: [0x5C, 0x2F])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
            case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
            case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
            case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
            default:
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30] + [byte].hex.utf8)
            }
        }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[start..<utf8.count]))
        bytes.append(0x22)
    }

    /// A UUID's `text` as a string literal, from its 16 bytes.
    mutating func uuid(_ uuid: UnsafeRawBufferPointer) {
        bytes.append(0x22)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { out in
            UUID.writeText(of: uuid, to: out)
            bytes.append(contentsOf: out)
        }
        bytes.append(0x22)
    }
}

/// A value that writes itself with `JSONWriter`, exactly as its `Encodable` conformance encodes.
protocol JSONWritable {
    func write(to json: inout JSONWriter)
}

extension ListPage: JSONWritable where Item: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.page(items, nextCursor: { nextCursor }) { json, item in item.write(to: &json) }
    }
}

extension JSONWriter {
    /// A `ListPage` of `items`, each written by `item`; its cursor is asked for after the items.
    mutating func page<Items: Sequence>(
        _ items: Items, nextCursor: () throws -> String?,
        item: (inout JSONWriter, Items.Element) throws -> Void
    ) rethrows {
        beginObject()
        key("items")
        beginArray()
        for value in items {
            element()
            try item(&self, value)
        }
        endArray()
        member("nextCursor", try nextCursor())
        endObject()
    }
}

extension Response {
    /// A JSON response written by `JSONWriter`, with the headers `content.encode` would set.
    static func json(_ value: some JSONWritable, status: HTTPStatus = .ok, capacity: Int = 1024) -> Response {
        var json = JSONWriter(capacity: capacity)
        value.write(to: &json)
        return .json(json, status: status)
    }

    /// The JSON `json` has written.
    static func json(_ json: JSONWriter, status: HTTPStatus = .ok) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .json
        var buffer = ByteBufferAllocator().buffer(capacity: json.bytes.count)
        buffer.writeBytes(json.bytes)
        return Response(status: status, headers: headers, body: .init(buffer: buffer))
    }
}
