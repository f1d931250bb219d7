import Foundation

/// An allow-list HTML sanitizer for the HTML the Markdown parser gives (Markdown may carry raw HTML).
/// The output is rebuilt from scratch, never copied: text is re-escaped, every element is one of
/// `elements` with only its allowed attributes, their values escaped again, URLs only of safe schemes,
/// and every element closed. What is not allowed is dropped: its tags (keeping the text inside), or
/// the whole element for those whose content is code or markup of its own (`script`, `style`, `svg` …).
/// Written by hand because no maintained sanitizer is in the package mirror.
public enum SafeHTML {
    /// Elements kept, with the attributes each may carry.
    static let elements: [String: Set<String>] = [
        "p": [], "br": [], "hr": [], "h1": [], "h2": [], "h3": [], "h4": [], "h5": [], "h6": [],
        "em": [], "strong": [], "b": [], "i": [], "s": [], "del": [], "code": ["class"], "pre": [], "blockquote": [],
        "ul": [], "ol": ["start"], "li": [], "a": ["href", "title"], "img": ["src", "alt", "title"],
        "table": [], "thead": [], "tbody": [], "tr": [], "th": ["align"], "td": ["align"], "sup": [], "sub": [],
    ]
    static let void: Set<String> = ["br", "hr", "img"]
    /// Dropped with everything inside them: their content is not text to show.
    static let droppedWithContent: Set<String> = [
        "script", "style", "iframe", "object", "embed", "noscript", "noembed", "noframes", "template", "textarea", "select",
        "svg", "math", "title", "xmp", "plaintext", "frameset", "frame", "applet", "head",
    ]
    /// URL schemes a link may use (images: web addresses only). A URL without a scheme is relative.
    static let linkSchemes: Set<String> = ["http", "https", "mailto"]
    static let imageSchemes: Set<String> = ["http", "https"]

    public static func sanitize(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var open: [String] = []
        let characters = Array(html.unicodeScalars)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "<" {
                if let tag = Tag.parse(characters, at: index) {
                    index = tag.end
                    if tag.isClosing {
                        close(tag.name, open: &open, into: &output)
                    } else if droppedWithContent.contains(tag.name) {
                        index = skipElement(tag.name, characters, from: index)
                    } else if let allowed = elements[tag.name] {
                        output += "<" + tag.name + attributes(tag, allowed: allowed) + ">"
                        if !void.contains(tag.name) { open.append(tag.name) }
                    }
                    continue
                }
                if let end = skipMarkupDeclaration(characters, at: index) {
                    index = end
                    continue
                }
                output += "&lt;"
            } else if character == "&" {
                output += entity(characters, at: index) ? "&" : "&amp;"
            } else if character == ">" {
                output += "&gt;"
            } else if character == "\"" {
                output += "&quot;"
            } else if character == "\u{0}" {
                output += "\u{FFFD}"
            } else if let (end, url) = bareURL(characters, at: index, after: output.unicodeScalars.last),
                !open.contains(where: { ["a", "code", "pre"].contains($0) })
            {
                let text = escapeAttribute(url)
                output += "<a href=\"\(text)\" rel=\"noopener noreferrer nofollow\">\(text)</a>"
                index = end
                continue
            } else {
                output.unicodeScalars.append(character)
            }
            index += 1
        }
        for name in open.reversed() { output += "</\(name)>" }
        return output
    }

    /// A web address written as text (`https://…` at the start of a word, as GitHub and most Markdown tools link
    /// it): where it ends and the address, entities decoded. It ends at a space or markup, without the punctuation
    /// that ends a sentence after it, or a closing parenthesis it did not open.
    static func bareURL(_ characters: [Unicode.Scalar], at index: Int, after previous: Unicode.Scalar?) -> (end: Int, url: String)? {
        guard characters[index] == "h" || characters[index] == "H", previous.map({ !$0.properties.isAlphabetic && !("0"..."9").contains($0) }) ?? true
        else { return nil }
        let scheme = characters[index..<min(index + 8, characters.count)].map { Character($0).lowercased() }.joined()
        let prefix = scheme.hasPrefix("https://") ? 8 : scheme.hasPrefix("http://") ? 7 : 0
        guard prefix > 0 else { return nil }
        var end = index + prefix
        while end < characters.count, !characters[end].properties.isWhitespace, !["<", ">", "\"", "'", "`"].contains(characters[end]) {
            end += 1
        }
        // Trailing punctuation belongs to the sentence; `)` to the address only when it opened one. The parentheses
        // are counted once: a long run of them is then linear, not quadratic.
        var opened = 0, closed = 0
        for character in characters[index..<end] {
            if character == "(" { opened += 1 } else if character == ")" { closed += 1 }
        }
        while end > index + prefix {
            let last = characters[end - 1]
            if [".", ",", ":", ";", "!", "?"].contains(last) {
                end -= 1
            } else if last == ")", closed > opened {
                closed -= 1
                end -= 1
            } else {
                break
            }
        }
        guard end > index + prefix else { return nil }
        let url = decodeEntities(String(String.UnicodeScalarView(characters[index..<end])))
        return isSafeURL(url, schemes: linkSchemes) ? (end, url) : nil
    }

    /// Closes `name` when it is open, closing what was opened inside it first; a stray end tag is dropped.
    private static func close(_ name: String, open: inout [String], into output: inout String) {
        guard let position = open.lastIndex(of: name) else { return }
        for inner in open[position...].reversed() { output += "</\(inner)>" }
        open.removeSubrange(position...)
    }

    /// The allowed attributes of a tag, rebuilt: values escaped, URLs checked, links made inert to the opener.
    private static func attributes(_ tag: Tag, allowed: Set<String>) -> String {
        var text = ""
        var seen: Set<String> = []
        for (name, value) in tag.attributes where allowed.contains(name) && seen.insert(name).inserted {
            switch name {
            case "href":
                guard isSafeURL(value, schemes: linkSchemes) else { continue }
            case "src":
                guard isSafeURL(value, schemes: imageSchemes) else { continue }
            case "class":
                // Ink marks a fenced block's language as `language-x`; nothing else.
                guard value.hasPrefix("language-"), value.dropFirst(9).allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "+" }) else {
                    continue
                }
            case "align":
                guard ["left", "right", "center"].contains(value.lowercased()) else { continue }
            case "start":
                guard Int(value) != nil else { continue }
            default: break
            }
            text += " \(name)=\"\(escapeAttribute(value))\""
        }
        if tag.name == "a" { text += " rel=\"noopener noreferrer nofollow\"" }
        return text
    }

    /// Whether a URL (entities already decoded) is relative or of one of `schemes`. Browsers ignore ASCII
    /// tabs and newlines anywhere in a URL and spaces and controls around it, so they are removed before
    /// the scheme is read (`java\tscript:` is `javascript:`).
    public static func isSafeURL(_ url: String, schemes: Set<String>) -> Bool {
        let cleaned = String(String.UnicodeScalarView(url.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }))
        guard let colon = cleaned.firstIndex(of: ":") else { return true }
        let beforeColon = cleaned[..<colon]
        // A colon after a path, query or fragment starts is no scheme (`/a:b`, `?x=a:b`, `#a:b`).
        if beforeColon.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { return true }
        return schemes.contains(beforeColon.lowercased())
    }

    static func escapeAttribute(_ value: String) -> String {
        var text = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": text += "&amp;"
            case "<": text += "&lt;"
            case ">": text += "&gt;"
            case "\"": text += "&quot;"
            case "'": text += "&#39;"
            case "`": text += "&#96;"
            case "\u{0}": text += "\u{FFFD}"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text
    }

    /// Whether `&` at `index` starts a character reference (`&amp;`, `&#39;`, `&#x27;`), kept as is in text.
    private static func entity(_ characters: [Unicode.Scalar], at index: Int) -> Bool {
        var end = index + 1
        let numeric = end < characters.count && characters[end] == "#"
        if numeric { end += 1 }
        let hex = numeric && end < characters.count && (characters[end] == "x" || characters[end] == "X")
        if hex { end += 1 }
        let start = end
        while end < characters.count, end - start < 32 {
            let scalar = characters[end]
            let fits =
                hex
                ? scalar.properties.isASCIIHexDigit
                : numeric ? ("0"..."9").contains(scalar) : (scalar.isASCII && scalar.properties.isAlphabetic) || ("0"..."9").contains(scalar)
            guard fits else { break }
            end += 1
        }
        return end > start && end < characters.count && characters[end] == ";"
    }

    /// After the start tag of a dropped element: the index past its end tag, or the end of the input.
    private static func skipElement(_ name: String, _ characters: [Unicode.Scalar], from index: Int) -> Int {
        var position = index
        while position < characters.count {
            if characters[position] == "<", let tag = Tag.parse(characters, at: position), tag.isClosing, tag.name == name { return tag.end }
            position += 1
        }
        return characters.count
    }

    /// Comments, `<!DOCTYPE …>`, `<![CDATA[…]]>` and `<?…>`: dropped whole. Returns the index past them.
    private static func skipMarkupDeclaration(_ characters: [Unicode.Scalar], at index: Int) -> Int? {
        guard index + 1 < characters.count, characters[index + 1] == "!" || characters[index + 1] == "?" else { return nil }
        let isComment = index + 3 < characters.count && characters[index + 2] == "-" && characters[index + 3] == "-"
        var position = index + 2
        while position < characters.count {
            if isComment {
                if characters[position] == ">", position >= index + 4, characters[position - 1] == "-", characters[position - 2] == "-" {
                    return position + 1
                }
            } else if characters[position] == ">" {
                return position + 1
            }
            position += 1
        }
        return characters.count
    }

    /// One start or end tag as a browser would read it.
    struct Tag {
        var name: String
        var isClosing: Bool
        var attributes: [(String, String)]
        /// The index past the tag's `>`.
        var end: Int

        static func parse(_ characters: [Unicode.Scalar], at start: Int) -> Tag? {
            var index = start + 1
            let isClosing = index < characters.count && characters[index] == "/"
            if isClosing { index += 1 }
            guard index < characters.count, characters[index].isASCII, characters[index].properties.isAlphabetic else { return nil }
            var name = ""
            while index < characters.count, !isSpace(characters[index]), characters[index] != "/", characters[index] != ">" {
                name.unicodeScalars.append(characters[index])
                index += 1
            }
            var attributes: [(String, String)] = []
            while index < characters.count {
                while index < characters.count, isSpace(characters[index]) || characters[index] == "/" { index += 1 }
                guard index < characters.count else { return nil }
                if characters[index] == ">" { return Tag(name: name.lowercased(), isClosing: isClosing, attributes: attributes, end: index + 1) }
                var attribute = ""
                repeat {
                    attribute.unicodeScalars.append(characters[index])
                    index += 1
                } while index < characters.count && !isSpace(characters[index]) && characters[index] != "/" && characters[index] != ">"
                    && characters[index] != "="
                while index < characters.count, isSpace(characters[index]) { index += 1 }
                var value = ""
                if index < characters.count, characters[index] == "=" {
                    index += 1
                    while index < characters.count, isSpace(characters[index]) { index += 1 }
                    guard index < characters.count else { return nil }
                    let quote = characters[index]
                    if quote == "\"" || quote == "'" {
                        index += 1
                        while index < characters.count, characters[index] != quote {
                            value.unicodeScalars.append(characters[index])
                            index += 1
                        }
                        guard index < characters.count else { return nil }
                        index += 1
                    } else {
                        while index < characters.count, !isSpace(characters[index]), characters[index] != ">" {
                            value.unicodeScalars.append(characters[index])
                            index += 1
                        }
                    }
                }
                attributes.append((attribute.lowercased(), decodeEntities(value)))
            }
            return nil
        }

        static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0C}"
        }
    }

    /// Character references in an attribute value, decoded as a browser does before it reads a URL:
    /// numeric ones (with or without the `;`), and the named ones that matter for a scheme.
    static func decodeEntities(_ value: String) -> String {
        guard value.contains("&") else { return value }
        let named: [String: String] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "colon": ":", "tab": "\t", "newline": "\n", "sol": "/", "lpar": "(",
            "rpar": ")", "nbsp": "\u{A0}", "num": "#", "quest": "?", "equals": "=", "period": ".",
        ]
        let scalars = Array(value.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "&" else {
                output.append(scalars[index])
                index += 1
                continue
            }
            var end = index + 1
            if end < scalars.count, scalars[end] == "#" {
                end += 1
                let hex = end < scalars.count && (scalars[end] == "x" || scalars[end] == "X")
                if hex { end += 1 }
                let digitsStart = end
                while end < scalars.count, hex ? scalars[end].properties.isASCIIHexDigit : ("0"..."9").contains(scalars[end]) { end += 1 }
                let digits = String(String.UnicodeScalarView(scalars[digitsStart..<end]))
                if !digits.isEmpty, let number = UInt32(digits.prefix(8), radix: hex ? 16 : 10) {
                    output.append(Unicode.Scalar(number) ?? "\u{FFFD}")
                    index = end < scalars.count && scalars[end] == ";" ? end + 1 : end
                    continue
                }
            } else {
                while end < scalars.count, scalars[end].isASCII, scalars[end].properties.isAlphabetic { end += 1 }
                let name = String(String.UnicodeScalarView(scalars[(index + 1)..<end])).lowercased()
                if let replacement = named[name] {
                    output.append(contentsOf: replacement.unicodeScalars)
                    index = end < scalars.count && scalars[end] == ";" ? end + 1 : end
                    continue
                }
            }
            output.append(scalars[index])
            index += 1
        }
        return String(output)
    }
}
