import Foundation

/// Leading and trailing whitespace: the characters of Foundation's `.whitespacesAndNewlines`.
/// Hand-rolled over scalars: `trimmingCharacters` bridges through NSString, and was a fifth of
/// an import and a tenth of a ticket creation's decoding.
public enum Whitespace {
    public static func trim(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return text }
        if !isSpace(first) && !isSpace(last) { return text }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }), let end = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[start...end])
    }

    @inline(__always) static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        // Foundation's set also has U+200B (a space separator in older Unicode).
        scalar.value < 0x80
            ? (scalar == " " || (scalar.value >= 0x09 && scalar.value <= 0x0D))
            : scalar.properties.isWhitespace || scalar.value == 0x200B
    }
}

/// The control characters (Unicode's Cc: C0, DEL and C1) a text field refuses: all of them on one line; all
/// but line feed, carriage return and tab in multi-line text. One rule for the API, the pages and the imports.
public enum ControlCharacters {
    public static func refused(in text: String, multiline: Bool) -> Bool {
        // The common case has none: C0 and DEL are single bytes, C1 (U+0080...U+009F) starts with 0xC2.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return false }
        return text.unicodeScalars.contains { scalar in
            guard scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) else { return false }
            return !(multiline && (scalar == "\n" || scalar == "\r" || scalar == "\t"))
        }
    }

    public static func message(multiline: Bool) -> String {
        multiline ? "must not contain control characters" : "must be one line without control characters"
    }
}

/// Collects field errors so one response names every problem of an input at once.
public struct FieldValidator: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// A required text: trimmed, not empty, at most `max` characters, without control characters. Single-line by
    /// default (names, titles, file names, usernames, emails: they end up in headers, file names and one-line
    /// displays); `multiline` lets line breaks and tabs through, for descriptions, notes and addresses.
    public mutating func text(_ value: String?, _ field: String, max: Int = 200, required: Bool = true, multiline: Bool = false) -> String? {
        guard let value else {
            if required { fail(field, "is required") }
            return nil
        }
        let trimmed = Whitespace.trim(value)
        if trimmed.isEmpty {
            if required { fail(field, "must not be empty") }
            return required ? nil : ""
        }
        if trimmed.count > max {
            fail(field, "must be at most \(max) characters (got \(trimmed.count))")
            return nil
        }
        if ControlCharacters.refused(in: trimmed, multiline: multiline) {
            fail(field, ControlCharacters.message(multiline: multiline))
            return nil
        }
        return trimmed
    }

    /// A password: 10 to 200 characters, none of them a control character. Never trimmed: a space is
    /// part of the password, and the login compares what it is given as is.
    public mutating func password(_ value: String?, _ field: String = "password") -> String? {
        guard let value else {
            fail(field, "is required")
            return nil
        }
        if value.count < 10 { fail(field, "must be at least 10 characters") }
        if value.count > 200 { fail(field, "must be at most 200 characters") }
        let controls = ControlCharacters.refused(in: value, multiline: false)
        if controls { fail(field, ControlCharacters.message(multiline: false)) }
        let blank = value.allSatisfy(\.isWhitespace)
        if blank, value.count >= 10 { fail(field, "must not be only spaces") }
        return (10...200).contains(value.count) && !controls && !blank ? value : nil
    }

    /// An enum value given as text; the message lists the allowed values.
    public mutating func choice<E: RawRepresentable & CaseIterable>(_ value: String?, _ field: String, as: E.Type, required: Bool = true) -> E?
    where E.RawValue == String {
        guard let value else {
            if required { fail(field, "is required") }
            return nil
        }
        guard let parsed = E(rawValue: value) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            fail(field, "'\(value)' is not one of \(allowed)")
            return nil
        }
        return parsed
    }

    public mutating func email(_ value: String?, _ field: String, required: Bool = false) -> String? {
        guard let text = text(value, field, max: 254, required: required), !text.isEmpty else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !text.contains(where: \.isWhitespace)
        else {
            fail(field, "'\(text)' is not an email address")
            return nil
        }
        return text.lowercased()
    }

    public mutating func range<T: Comparable>(_ value: T?, _ field: String, _ bounds: ClosedRange<T>, required: Bool = true) -> T? {
        guard let value else {
            if required { fail(field, "is required") }
            return nil
        }
        guard bounds.contains(value) else {
            fail(field, "must be between \(bounds.lowerBound) and \(bounds.upperBound)")
            return nil
        }
        return value
    }

    public mutating func id(_ value: String?, _ field: String, required: Bool = true) -> UUID? {
        guard let value else {
            if required { fail(field, "is required") }
            return nil
        }
        guard let id = UUID(uuidString: value) else {
            fail(field, "'\(value)' is not a valid id")
            return nil
        }
        return id
    }

    /// Throws every collected error at once.
    public func check() throws(TandemError) {
        if !errors.isEmpty { throw .validation(errors) }
    }
}
