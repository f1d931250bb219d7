/// Formula-injection neutralizing for exports and its inverse for imports.
///
/// A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` (and, in some programs, tab or CR) as a
/// formula. Exports prefix such text with an apostrophe, which spreadsheets show as plain text. To make
/// `restore(neutralize(x)) == x` hold for every `x`, text that already starts with an apostrophe followed by
/// one of those characters gets a second apostrophe.
public enum CellSafety {
    @inline(__always)
    static func isTrigger(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D: return true
        default: return false
        }
    }

    /// True when the text starts with a trigger character, or with apostrophes followed by one.
    static func needsPrefix(_ utf8: some Sequence<UInt8>) -> Bool {
        for byte in utf8 {
            if byte == UInt8(ascii: "'") { continue }
            return isTrigger(byte)
        }
        return false
    }

    /// Prefix one apostrophe when the text starts with `=`, `+`, `-`, `@`, tab or carriage return,
    /// and also when it starts with apostrophes followed by one of those (so the inverse round-trips exactly).
    public static func neutralize(_ text: String) -> String {
        needsPrefix(text.utf8) ? "'" + text : text
    }

    /// Removes one leading apostrophe only when it comes before `=`, `+`, `-`, `@`, tab or CR
    /// (possibly after further apostrophes); any other apostrophe is kept.
    public static func restore(_ text: String) -> String {
        guard text.utf8.first == UInt8(ascii: "'") else { return text }
        let rest = text.dropFirst()
        return needsPrefix(rest.utf8) ? String(rest) : text
    }
}
