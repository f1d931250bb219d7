/// Reduces an HTML body to readable plain text: for mail that came as HTML only. The result is text, never
/// markup: tags are dropped, script/style/head/template contents and comments removed, block elements end
/// lines, `<br>` is a line break, `<li>` starts a "- " line, entities (named and numeric) decoded, whitespace
/// collapsed (kept inside `<pre>`), at most one blank line in a row.
public enum HTMLText {
    public static func plainText(_ html: String) -> String {
        let s = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        out.reserveCapacity(s.count / 2)
        var index = 0
        var pre = 0
        var pendingSpace = false
        // Needles once not found from some point are not found from any later one: never search for them again
        // (a thousand unclosed <head> tags must not cost a thousand scans).
        var missing: Set<String> = []
        func search(_ needle: String, from start: Int) -> Int? {
            if missing.contains(needle) { return nil }
            let found = find(s, needle, from: start, caseInsensitive: true)
            if found == nil { missing.insert(needle) }
            return found
        }

        func newline(_ count: Int) {
            pendingSpace = false
            // Trailing spaces before a line break go.
            while let last = out.last, last == " " { out.removeLast() }
            var existing = 0
            var position = out.endIndex
            while position > out.startIndex, existing < count {
                let before = out.index(before: position)
                guard out[before] == "\n" else { break }
                existing += 1
                position = before
            }
            if out.isEmpty { return }
            for _ in existing..<count { out.append("\n") }
        }
        func emit(_ scalar: Unicode.Scalar) {
            if pre == 0, scalar.isASCIIWhitespace || scalar.value == 0xA0 {
                pendingSpace = true
                return
            }
            if pendingSpace, let last = out.last, last != "\n" { out.append(" ") }
            pendingSpace = false
            out.append(scalar.value == 0xA0 ? " " : scalar)
        }

        while index < s.count {
            let c = s[index]
            if c == "&" {
                let (decoded, length) = entity(s, at: index)
                if let decoded {
                    for scalar in decoded.unicodeScalars { emit(scalar) }
                    index += length
                } else {
                    emit(c)
                    index += 1
                }
                continue
            }
            guard c == "<", index + 1 < s.count else {
                emit(c)
                index += 1
                continue
            }
            let next = s[index + 1]
            if next == "!" {
                if index + 3 < s.count, s[index + 2] == "-", s[index + 3] == "-" {
                    index = find(s, "-->", from: index + 4).map { $0 + 3 } ?? s.count
                } else {
                    index = find(s, ">", from: index + 2).map { $0 + 1 } ?? s.count
                }
                continue
            }
            if next == "?" {
                index = find(s, ">", from: index + 2).map { $0 + 1 } ?? s.count
                continue
            }
            let closing = next == "/"
            var nameEnd = index + (closing ? 2 : 1)
            let nameStart = nameEnd
            while nameEnd < s.count, s[nameEnd].properties.isAlphabetic || ("0"..."9").contains(s[nameEnd]) { nameEnd += 1 }
            guard nameEnd > nameStart else {
                // "<" not starting a tag is text ("a < b").
                emit(c)
                index += 1
                continue
            }
            let name = String(String.UnicodeScalarView(s[nameStart..<nameEnd])).lowercased()
            let tagEnd = tagClose(s, from: nameEnd)
            index = tagEnd
            if !closing, ["script", "style", "template", "title", "noscript", "xml", "object", "iframe"].contains(name) {
                index = search("</" + name, from: index).map { tagClose(s, from: $0 + 2 + name.unicodeScalars.count) } ?? s.count
                continue
            }
            if !closing, name == "head" {
                // Up to </head> or <body>; a head that never closes hides nothing.
                if let end = search("</head", from: index).map({ tagClose(s, from: $0 + 6) }) ?? search("<body", from: index) { index = end }
                continue
            }
            switch name {
            case "br": newline(1)
            case "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "dl", "hr": newline(2)
            case "div", "tr", "section", "article", "header", "footer", "address", "center", "dt", "dd", "form", "fieldset", "main", "nav",
                "aside", "figure", "figcaption", "caption", "tbody", "thead", "tfoot":
                newline(1)
            case "pre":
                newline(2)
                pre += closing ? (pre > 0 ? -1 : 0) : 1
            case "li":
                newline(1)
                if !closing {
                    out.append(contentsOf: "- ".unicodeScalars)
                    pendingSpace = false
                }
            case "td", "th":
                if !closing { pendingSpace = true }
            default: break
            }
        }
        // Lines trimmed, no more than one blank line in a row.
        var lines: [Substring] = []
        var blank = 0
        for line in String(out).split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
            let text = Substring(String(trimmed))
            if text.isEmpty {
                blank += 1
                if blank > 1 || lines.isEmpty { continue }
            } else {
                blank = 0
            }
            lines.append(text)
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The index just past the tag's ">" (quoted attribute values may hold ">").
    static func tagClose(_ s: [Unicode.Scalar], from start: Int) -> Int {
        var index = start
        var quote: Unicode.Scalar?
        while index < s.count {
            let c = s[index]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == ">" {
                return index + 1
            }
            index += 1
        }
        return s.count
    }

    static func find(_ s: [Unicode.Scalar], _ needle: String, from start: Int, caseInsensitive: Bool = false) -> Int? {
        let pattern = Array(needle.lowercased().unicodeScalars)
        guard let first = pattern.first, s.count >= pattern.count else { return nil }
        var index = start
        while index <= s.count - pattern.count {
            let c = s[index]
            if c == first || (caseInsensitive && lower(c) == first) {
                var matched = true
                for offset in 1..<max(1, pattern.count) where pattern.count > 1 {
                    let d = s[index + offset]
                    if d != pattern[offset] && !(caseInsensitive && lower(d) == pattern[offset]) {
                        matched = false
                        break
                    }
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    static func lower(_ c: Unicode.Scalar) -> Unicode.Scalar {
        ("A"..."Z").contains(c) ? Unicode.Scalar(c.value + 32)! : c
    }

    /// `&name;`, `&#123;` or `&#x7B;` at `start`: the text and how many scalars it used; nil when it is no entity.
    static func entity(_ s: [Unicode.Scalar], at start: Int) -> (String?, Int) {
        var index = start + 1
        if index < s.count, s[index] == "#" {
            index += 1
            var hex = false
            if index < s.count, s[index] == "x" || s[index] == "X" {
                hex = true
                index += 1
            }
            var value: UInt32 = 0
            let digitsStart = index
            while index < s.count, index - digitsStart < 8, let digit = Int(String(s[index]), radix: hex ? 16 : 10) {
                value = value * (hex ? 16 : 10) + UInt32(digit)
                index += 1
            }
            guard index > digitsStart else { return (nil, 0) }
            if index < s.count, s[index] == ";" { index += 1 }
            // Windows-1252 numbers written as code points (&#150;) are what the author meant.
            if (0x80...0x9F).contains(value) { value = MailCharset.windows1252High[Int(value) - 0x80] }
            guard value != 0, let scalar = Unicode.Scalar(value) else { return ("\u{FFFD}", index - start) }
            return (String(Character(scalar)), index - start)
        }
        let nameStart = index
        while index < s.count, index - nameStart < 10, s[index].properties.isAlphabetic || ("0"..."9").contains(s[index]) { index += 1 }
        guard index > nameStart else { return (nil, 0) }
        let name = String(String.UnicodeScalarView(s[nameStart..<index]))
        guard let value = entities[name] ?? entities[name.lowercased()] else { return (nil, 0) }
        if index < s.count, s[index] == ";" { index += 1 }
        return (value, index - start)
    }

    static let entities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "copy": "©", "reg": "®", "trade": "™", "hellip": "…",
        "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "sbquo": "‚", "bdquo": "„", "laquo": "«", "raquo": "»",
        "bull": "•", "middot": "·", "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "sect": "§", "para": "¶", "deg": "°", "plusmn": "±",
        "times": "×", "divide": "÷", "frac12": "½", "frac14": "¼", "frac34": "¾", "shy": "", "zwnj": "", "zwj": "", "ensp": " ", "emsp": " ",
        "thinsp": " ", "iexcl": "¡", "iquest": "¿", "szlig": "ß", "agrave": "à", "aacute": "á", "acirc": "â", "atilde": "ã", "auml": "ä",
        "aring": "å", "aelig": "æ", "ccedil": "ç", "egrave": "è", "eacute": "é", "ecirc": "ê", "euml": "ë", "igrave": "ì", "iacute": "í",
        "icirc": "î", "iuml": "ï", "ntilde": "ñ", "ograve": "ò", "oacute": "ó", "ocirc": "ô", "otilde": "õ", "ouml": "ö", "oslash": "ø",
        "ugrave": "ù", "uacute": "ú", "ucirc": "û", "uuml": "ü", "yacute": "ý", "yuml": "ÿ", "Agrave": "À", "Aacute": "Á", "Acirc": "Â",
        "Auml": "Ä", "Aring": "Å", "Ccedil": "Ç", "Egrave": "È", "Eacute": "É", "Ecirc": "Ê", "Ntilde": "Ñ", "Ouml": "Ö", "Oslash": "Ø",
        "Uuml": "Ü", "Uacute": "Ú",
    ]
}
