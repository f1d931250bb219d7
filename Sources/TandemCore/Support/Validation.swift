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
        scalar.value < 0x80 ? (scalar == " " || (scalar.value >= 0x09 && scalar.value <= 0x0D))
            : scalar.properties.isWhitespace || scalar.value == 0x200B
    }
}

/// Collects field errors so one response names every problem of an input at once.
public struct FieldValidator: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// A required text: trimmed, not empty, at most `max` characters.
    public mutating func text(_ value: String?, _ field: String, max: Int = 200, required: Bool = true) -> String? {
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
        if trimmed.unicodeScalars.contains(where: { scalar in
            // ASCII without the Unicode tables: controls are below 0x20 and 0x7F.
            scalar.value < 0x80 ? (scalar.value < 0x20 || scalar.value == 0x7F) && scalar != "\n" && scalar != "\r" && scalar != "\t"
                : scalar.properties.generalCategory == .control
        }) {
            fail(field, "must not contain control characters")
            return nil
        }
        return trimmed
    }

    /// An enum value given as text; the message lists the allowed values.
    public mutating func choice<E: RawRepresentable & CaseIterable>(_ value: String?, _ field: String, as: E.Type, required: Bool = true) -> E? where E.RawValue == String {
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
              !text.contains(where: \.isWhitespace) else {
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
