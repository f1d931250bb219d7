import Foundation

extension MailAddress {
    /// The part after the last "@", lowercased ("" when there is none): what a site's client email domain is
    /// compared with.
    public var domain: String {
        guard let at = email.lastIndex(of: "@") else { return "" }
        return String(email[email.index(after: at)...]).lowercased()
    }
}

/// RFC 5322 address lists as clients write them: `"Name" <a@b>`, `Name <a@b>`, `a@b (Name)`, bare `a@b`,
/// encoded-word names, groups (`Team: a@b, c@d;`, members kept, the group name dropped), obsolete routes.
public enum AddressList {
    /// Every mailbox in the list. Names are unquoted, encoded words decoded, whitespace collapsed; the domain is
    /// lowercased (the local part is kept as written). Entries without an address are dropped.
    public static func parse(_ header: String) -> [MailAddress] {
        let scalars = Array(header.unicodeScalars)
        var result: [MailAddress] = []
        var entry: [Unicode.Scalar] = []
        var index = 0
        var angle = false
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\"":
                // A quoted string, copied whole (escapes included).
                entry.append(scalar)
                index += 1
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count {
                        entry.append(scalars[index])
                        index += 1
                    }
                    entry.append(scalars[index])
                    index += 1
                }
                if index < scalars.count { entry.append(scalars[index]) }
            case "(":
                // A comment, nested comments included, copied whole.
                var depth = 0
                while index < scalars.count {
                    let c = scalars[index]
                    entry.append(c)
                    if c == "\\", index + 1 < scalars.count {
                        index += 1
                        entry.append(scalars[index])
                    } else if c == "(" {
                        depth += 1
                    } else if c == ")" {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    index += 1
                }
            case "<":
                angle = true
                entry.append(scalar)
            case ">":
                angle = false
                entry.append(scalar)
            case "," where !angle, ";" where !angle:
                if let address = mailbox(entry) { result.append(address) }
                entry = []
            case ":" where !angle:
                // A group's display name ends here; its members follow. (Inside <> it is a route.)
                if !entry.contains("<") { entry = [] } else { entry.append(scalar) }
            default:
                entry.append(scalar)
            }
            index += 1
        }
        if let address = mailbox(entry) { result.append(address) }
        return result
    }

    /// One mailbox: `phrase <addr-spec>` or `addr-spec (comment)`.
    static func mailbox(_ scalars: [Unicode.Scalar]) -> MailAddress? {
        var phrase = String.UnicodeScalarView()
        var comments: [String] = []
        var angleAddress: String.UnicodeScalarView?
        var bare = String.UnicodeScalarView()
        var quotedName = false
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\"" {
                quotedName = true
                index += 1
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
                    phrase.append(scalars[index])
                    index += 1
                }
                if angleAddress == nil { bare.append(contentsOf: "\"\"".unicodeScalars) }
            } else if scalar == "(" {
                var depth = 0
                var comment = String.UnicodeScalarView()
                while index < scalars.count {
                    let c = scalars[index]
                    if c == "\\", index + 1 < scalars.count {
                        index += 1
                        comment.append(scalars[index])
                    } else if c == "(" {
                        depth += 1
                        if depth > 1 { comment.append(c) }
                    } else if c == ")" {
                        depth -= 1
                        if depth == 0 { break }
                        comment.append(c)
                    } else {
                        comment.append(c)
                    }
                    index += 1
                }
                comments.append(String(comment))
            } else if scalar == "<", angleAddress == nil {
                var address = String.UnicodeScalarView()
                index += 1
                while index < scalars.count, scalars[index] != ">" {
                    if !scalars[index].isASCIIWhitespace { address.append(scalars[index]) }
                    index += 1
                }
                angleAddress = address
            } else if angleAddress == nil {
                phrase.append(scalar)
                bare.append(scalar)
            }
            index += 1
        }
        var email: String
        var name: String
        if let angle = angleAddress {
            email = String(angle)
            // An obsolete route: <@relay.example,@other.example:user@example.com>.
            if email.hasPrefix("@"), let colon = email.firstIndex(of: ":") { email = String(email[email.index(after: colon)...]) }
            name = String(phrase)
            if name.trimmingASCIIWhitespace().isEmpty, !quotedName, let comment = comments.first { name = comment }
        } else {
            // No angle brackets: the address is the text (quotes as written), any comment is the name.
            email = String(bare).filter { !$0.isWhitespace }
            if quotedName, !email.contains("@") { email = String(phrase).filter { !$0.isWhitespace } }
            name = comments.first ?? ""
        }
        email = normalizedAddress(String(String.UnicodeScalarView(email.unicodeScalars.filter { !$0.isControl })))
        guard !email.isEmpty else { return nil }
        let cleanName = collapseWhitespace(EncodedWords.decode(name))
        return MailAddress(email, name: cleanName.isEmpty || cleanName == email ? nil : cleanName)
    }

    /// The address with its domain lowercased and surrounding quotes or "mailto:" removed.
    static func normalizedAddress(_ raw: String) -> String {
        var email = raw
        if email.lowercased().hasPrefix("mailto:") { email = String(email.dropFirst(7)) }
        guard let at = email.lastIndex(of: "@") else { return email }
        return String(email[..<at]) + "@" + email[email.index(after: at)...].lowercased()
    }

    /// One line: runs of whitespace and control characters (a decoded word may hold any) become one space.
    static func collapseWhitespace(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace || $0.unicodeScalars.contains(where: \.isControl) }).joined(separator: " ")
    }
}

/// Message-ID, In-Reply-To and References values.
///
/// Ids are kept **with** their angle brackets (`<id@domain>`), exactly as `MailMessage.messageId(_:domain:)`
/// writes them, so a reply's In-Reply-To compares equal to the outbox's stored Message-ID.
public enum MessageIds {
    /// Every `<…>` id in the value, in order (whitespace inside removed). A value without angle brackets that
    /// still looks like an id (`id@domain`, as some broken clients write) is taken with brackets added.
    public static func parse(_ header: String) -> [String] {
        var ids: [String] = []
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: ">") else { break }
            let inner = after[..<close].filter { !$0.isWhitespace && $0 != "<" && !$0.unicodeScalars.contains(where: \.isControl) }
            if !inner.isEmpty { ids.append("<\(inner)>") }
            rest = after[after.index(after: close)...]
        }
        if ids.isEmpty {
            for token in header.split(whereSeparator: { $0.isWhitespace || $0 == "," }) where token.contains("@") && !token.contains("(") {
                ids.append("<\(token.filter { $0 != "<" && $0 != ">" && !$0.unicodeScalars.contains(where: \.isControl) })>")
            }
        }
        return ids
    }
}

/// RFC 5322 dates (`Fri, 04 Dec 2026 23:02:55 +0000`), with the obsolete forms still seen: two-digit years,
/// named zones (GMT, EST, …), missing seconds or weekday, a trailing comment. Anything else is nil.
public enum MailDate {
    public static func parse(_ header: String) -> Date? {
        var text = header
        if let paren = text.firstIndex(of: "(") { text = String(text[..<paren]) }
        if let comma = text.firstIndex(of: ",") { text = String(text[text.index(after: comma)...]) }
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).map(String.init)
        guard tokens.count >= 4 else { return nil }
        var position = 0
        // Some clients write the weekday without a comma.
        if Int(tokens[0]) == nil, tokens.count >= 5 { position = 1 }
        guard let day = Int(tokens[position]), (1...31).contains(day) else { return nil }
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard let monthIndex = months.firstIndex(of: String(tokens[position + 1].lowercased().prefix(3))) else { return nil }
        guard var year = Int(tokens[position + 2]), year >= 0, year < 10_000 else { return nil }
        if tokens[position + 2].count <= 2 { year += year < 50 ? 2000 : 1900 } else if tokens[position + 2].count == 3 { year += 1900 }
        guard position + 3 < tokens.count else { return nil }
        let time = tokens[position + 3].split(separator: ":", omittingEmptySubsequences: false)
        guard time.count == 2 || time.count == 3, let hour = Int(time[0]), let minute = Int(time[1]), (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        let second = time.count == 3 ? Int(time[2]) : 0
        guard let second, (0...60).contains(second) else { return nil }
        var offset = 0
        if position + 4 < tokens.count { offset = zoneOffset(tokens[position + 4]) ?? 0 }
        let days = daysFromCivil(year: year, month: monthIndex + 1, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Seconds east of UTC for `+hhmm`, `-hhmm` or an obsolete zone name; military and unknown zones are UTC.
    static func zoneOffset(_ zone: String) -> Int? {
        if let sign = zone.first, sign == "+" || sign == "-" {
            let digits = zone.dropFirst()
            guard digits.count == 4, let value = Int(digits), value >= 0 else { return nil }
            let offset = (value / 100) * 3600 + (value % 100) * 60
            return sign == "-" ? -offset : offset
        }
        let named: [String: Int] = [
            "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
        ]
        return named[zone.lowercased()].map { $0 * 3600 } ?? 0
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
