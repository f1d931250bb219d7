/// The new part of a reply: what the person wrote, with the history their client quoted below it cut off.
///
/// Cut at the first of: an attribution line ("On … wrote:", also wrapped over two lines as Gmail does, and the
/// French, German, Spanish, Italian, Dutch and Scandinavian forms), an Outlook separator ("-----Original
/// Message-----", or a "From:" line followed within four lines by "Sent:"/"Date:" and "To:"/"Subject:",
/// with the underscore rule Outlook draws above it), then a block of ">" quoted lines at the very end.
/// Quotes in the middle (an answer interleaved with the question) are kept. Conservative: if cutting would
/// leave nothing, the whole text is kept. Forwarded messages are not cut (what was forwarded is the point).
public enum ReplyText {
    public static func newText(_ text: String) -> String {
        // Lines split on bytes, not characters: no grapheme breaking over the whole text.
        let lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { Substring($0) }
        var cut = lines.count
        for index in lines.indices {
            let start = head(lines[index])
            // Below a forwarding line everything is what was forwarded: nothing more is cut.
            if isForwardMarker(start) { break }
            guard isHistoryStart(lines, index, head: start) else { continue }
            cut = index
            // Outlook's "________________________________" rule and blank lines above the block go too.
            while cut > 0, lines[cut - 1].allSatisfy({ $0 == "_" || $0 == " " || $0 == "-" }) { cut -= 1 }
            break
        }
        var kept = Array(lines[..<cut])
        // A trailing block of quoted lines (and blank lines around it).
        var end = kept.count
        while end > 0, trimmed(kept[end - 1]).isEmpty { end -= 1 }
        var start = end
        while start > 0, trimmed(kept[start - 1]).hasPrefix(">") || (trimmed(kept[start - 1]).isEmpty && start < end) { start -= 1 }
        if start < end, kept[start..<end].contains(where: { trimmed($0).hasPrefix(">") }) { kept = Array(kept[..<start]) }
        let result = kept.joined(separator: "\n").trimmingASCIIWhitespace()
        return result.isEmpty ? text.trimmingASCIIWhitespace() : result
    }

    static func trimmed(_ line: Substring) -> Substring {
        line.drop { $0 == " " || $0 == "\t" }
    }

    static let attributionEndings = ["wrote:", "a écrit :", "a écrit:", "schrieb:", "escribió:", "ha scritto:", "schreef:", "skrev:", "kirjoitti:"]
    static let attributionStarts = ["on ", "le ", "am ", "el ", "il ", "op ", "den ", "søn", "man", "tir", "ons", "tor", "fre", "lør"]

    /// The start of a line, lowercased: all any test here needs (a line's whole length is never lowercased).
    /// (ASCII letters only: every pattern here starts in ASCII or is already lowercase.)
    static func head(_ line: Substring) -> String {
        let bytes = trimmed(line).utf8.prefix(60).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func isForwardMarker(_ text: String) -> Bool {
        return (text.hasPrefix("-") && text.contains("forwarded message")) || text.hasPrefix("begin forwarded message")
    }

    static func isHistoryStart(_ lines: [Substring], _ index: Int, head line: String) -> Bool {
        if line.isEmpty { return false }
        // -----Original Message----- (any number of dashes, any case, also with spaces).
        if line.hasPrefix("--"), line.replacingOccurrences(of: " ", with: "").contains("originalmessage") { return true }
        if line.hasPrefix(">") { return false }
        // "On Mon, 1 Dec 2026 at 10:00, Alice <alice@contoso.example> wrote:", possibly wrapped once.
        if attributionStarts.contains(where: { line.hasPrefix($0) }) {
            let next = index + 1 < lines.count ? trimmed(lines[index + 1]) : ""
            // An attribution is one sentence; a long paragraph that happens to end in "wrote:" is not one.
            guard lines[index].utf8.count + next.utf8.count < 300 else { return false }
            let whole = lines[index].lowercased().trimmingASCIIWhitespace()
            let joined = (whole + " " + next.lowercased()).trimmingASCIIWhitespace()
            if attributionEndings.contains(where: { whole.hasSuffix($0) || joined.hasSuffix($0) }) { return true }
        }
        // Outlook's header block: From: … then Sent:/Date: … and To:/Subject: within the next lines.
        if line.hasPrefix("from:") || line.hasPrefix("de:") || line.hasPrefix("von:") {
            let following = lines[(index + 1)..<min(lines.count, index + 5)].map(head)
            let sent = following.contains { $0.hasPrefix("sent:") || $0.hasPrefix("date:") || $0.hasPrefix("envoyé :") || $0.hasPrefix("gesendet:") }
            let to = following.contains { $0.hasPrefix("to:") || $0.hasPrefix("subject:") || $0.hasPrefix("à :") || $0.hasPrefix("an:") }
            if sent, to { return true }
        }
        return false
    }
}
