import Foundation

/// How much of a message intake is willing to read. Each bound keeps a hostile or broken message from costing
/// more memory or time than a large honest one.
public struct MailLimits: Sendable, Equatable {
    /// The whole raw message (a message above it is refused as oversized: HTTP 413).
    public var maxTotalBytes: Int
    /// Multiparts inside multiparts.
    public var maxDepth: Int
    /// Body parts in the whole message, multiparts included.
    public var maxParts: Int
    /// One header section (the message's or a part's) must end within this many bytes.
    public var maxHeaderSectionBytes: Int
    /// Fields in one header section.
    public var maxHeaderCount: Int

    public init(
        maxTotalBytes: Int = 25 * 1024 * 1024, maxDepth: Int = 10, maxParts: Int = 200, maxHeaderSectionBytes: Int = 256 * 1024,
        maxHeaderCount: Int = 1000
    ) {
        self.maxTotalBytes = maxTotalBytes
        self.maxDepth = maxDepth
        self.maxParts = maxParts
        self.maxHeaderSectionBytes = maxHeaderSectionBytes
        self.maxHeaderCount = maxHeaderCount
    }

    /// "25 MB", "256 KB", "1.5 MB": sizes in reasons people read.
    static func describe(bytes: Int) -> String {
        func format(_ value: Double, _ unit: String) -> String {
            let rounded = (value * 10).rounded() / 10
            return rounded == rounded.rounded() ? "\(Int(rounded)) \(unit)" : "\(rounded) \(unit)"
        }
        if bytes >= 1024 * 1024 { return format(Double(bytes) / 1_048_576, "MB") }
        if bytes >= 1024 { return format(Double(bytes) / 1024, "KB") }
        return "\(bytes) bytes"
    }
}

/// Why a message was refused. `reason` is written for the person who sent it or reads the log.
public struct MailParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    /// The message is larger than `MailLimits.maxTotalBytes`: the server answers 413, not 400.
    public var isOversized: Bool

    public init(_ reason: String, isOversized: Bool = false) {
        self.reason = reason
        self.isOversized = isOversized
    }

    public var description: String { reason }
}

/// A file carried by a message: an attachment, an inline image, a forwarded message.
public struct MailAttachment: Sendable, Equatable {
    /// The sender's file name without any path (RFC 2231 and encoded-word names decoded), else
    /// `attachment-N.ext` with N its position among the attachments and the extension from its type.
    public var filename: String
    /// Lowercased `type/subtype`, without parameters.
    public var contentType: String
    public var bytes: [UInt8]
    /// `Content-ID` without angle brackets: what `cid:` URLs in the HTML refer to.
    public var contentId: String?
    /// Shown in the body (disposition inline, or a resource of multipart/related) rather than offered as a file.
    public var isInline: Bool

    public init(filename: String, contentType: String, bytes: [UInt8], contentId: String? = nil, isInline: Bool = false) {
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
        self.contentId = contentId
        self.isInline = isInline
    }
}

/// A received message, read for turning into a ticket or a reply.
public struct ParsedMail: Sendable, Equatable {
    /// The top-level header section, every field in order.
    public var headers: MailHeaders
    public var from: MailAddress?
    public var sender: MailAddress?
    public var replyTo: [MailAddress]
    public var to: [MailAddress]
    public var cc: [MailAddress]
    /// Decoded and on one line; nil when the message has none.
    public var subject: String?
    /// `<id@domain>`, angle brackets kept (see `MessageIds`); nil when missing.
    public var messageId: String?
    public var inReplyTo: [String]
    public var references: [String]
    /// Nil when missing or unreadable.
    public var date: Date?
    /// The top-level media type, lowercased (`multipart/mixed`, `text/plain`, …).
    public var contentType: String
    /// The top-level `report-type` parameter of a multipart/report (`delivery-status`, …).
    public var reportType: String?
    /// The media type of every entity in the message, outermost first: what classification looks for.
    public var partTypes: [String]
    /// The readable text: the text/plain body (joined when a client split it around images), else the HTML
    /// body reduced to text. LF line endings; no control characters but tab and line feed.
    public var text: String
    /// The HTML body as sent (never rendered by us; kept for whoever wants it).
    public var html: String?
    public var attachments: [MailAttachment]

    /// The new text of a reply, quoted history cut off (see `ReplyText`).
    public var replyText: String { ReplyText.newText(text) }

    /// The ids this message answers, most direct first, without duplicates: In-Reply-To, then References from
    /// the last (the parent) back to the first (the thread's start). What threading looks up, in that order.
    public var referencedIds: [String] {
        var seen = Set<String>()
        return (inReplyTo + references.reversed()).filter { seen.insert($0).inserted }
    }
}

/// Reads raw RFC 5322 / MIME messages (RFC 2045-2047, 2231) into `ParsedMail`.
///
/// Choices: a forwarded `message/rfc822` part is kept as an attachment named after its subject (`.eml`), not
/// descended into, so its text never mixes with the sender's and its own parts never count against the limits.
/// text/plain and text/html parts are body unless they are `Content-Disposition: attachment` or carry a file
/// name; other text types (calendar, csv, …) are attachments. A part without a `Content-Type` is text/plain
/// (message/rfc822 inside multipart/digest). A multipart without a boundary is read as text/plain. A missing
/// final boundary ends the multipart at the end of its enclosing body. Preamble and epilogue are ignored.
public enum MailParser {
    public static func parse(_ raw: [UInt8], limits: MailLimits = .init()) throws(MailParseError) -> ParsedMail {
        if raw.count > limits.maxTotalBytes {
            throw MailParseError(
                "the message is \(MailLimits.describe(bytes: raw.count)); the limit is \(MailLimits.describe(bytes: limits.maxTotalBytes))", isOversized: true)
        }
        if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) { throw MailParseError("the message is empty") }
        var reader = EntityReader(raw: raw, limits: limits)
        let (headers, bodyStart) = try HeaderSection.parse(raw, from: 0, to: raw.count, limits: limits, isMessage: true)
        var body = Body()
        try reader.read(headers: headers, body: bodyStart..<raw.count, depth: 0, defaultType: "text/plain", into: &body)

        let contentType = HeaderParameters.parse(headers.first("Content-Type") ?? "text/plain")
        let plain = body.plain.map(normalizeLineEndings).filter(\.hasVisibleText)
        let html = body.html.isEmpty ? nil : body.html.joined(separator: "\n").withoutControlCharacters()
        var text = plain.joined(separator: "\n\n")
        if text.isEmpty, let html { text = HTMLText.plainText(html) }
        var attachments = body.attachments
        for index in attachments.indices where attachments[index].filename.isEmpty {
            attachments[index].filename = "attachment-\(index + 1)" + fileExtension(attachments[index].contentType)
        }
        return ParsedMail(
            headers: headers,
            from: headers.first("From").flatMap { AddressList.parse($0).first },
            sender: headers.first("Sender").flatMap { AddressList.parse($0).first },
            replyTo: headers.all("Reply-To").flatMap(AddressList.parse),
            to: headers.all("To").flatMap(AddressList.parse),
            cc: headers.all("Cc").flatMap(AddressList.parse),
            subject: headers.first("Subject").map { AddressList.collapseWhitespace(EncodedWords.decode($0)) },
            messageId: headers.first("Message-ID").flatMap { MessageIds.parse($0).first },
            inReplyTo: headers.first("In-Reply-To").map(MessageIds.parse) ?? [],
            references: headers.first("References").map(MessageIds.parse) ?? [],
            date: headers.first("Date").flatMap(MailDate.parse),
            contentType: reader.mediaType(contentType.value, default: "text/plain"),
            reportType: contentType["report-type"]?.lowercased(),
            partTypes: reader.partTypes,
            text: text.withoutControlCharacters().trimmingASCIIWhitespace(),
            html: html,
            attachments: attachments
        )
    }

    /// CRLF and lone CR become LF.
    static func normalizeLineEndings(_ text: String) -> String {
        guard text.utf8.contains(0x0D) else { return text }
        return String(decoding: normalizeLineEndings(Array(text.utf8)), as: UTF8.self)
    }

    /// CRLF and lone CR become LF, in bytes of an ASCII-compatible charset.
    static func normalizeLineEndings(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0D) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            index += 1
            if byte == 0x0D {
                if index < count, bytes[index] == 0x0A { continue }
                out.append(0x0A)
            } else {
                out.append(byte)
            }
        }
        return out
    }

    static func fileExtension(_ contentType: String) -> String {
        let known: [String: String] = [
            "application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
            "image/bmp": ".bmp", "image/tiff": ".tif", "text/plain": ".txt", "text/html": ".html", "text/csv": ".csv", "text/calendar": ".ics",
            "message/rfc822": ".eml", "application/zip": ".zip", "application/ms-tnef": ".dat", "message/delivery-status": ".txt",
            "message/disposition-notification": ".txt", "text/rfc822-headers": ".txt", "application/msword": ".doc",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx", "application/vnd.ms-excel": ".xls",
        ]
        return known[contentType] ?? ".bin"
    }
}

/// What a walk over the entities gathers.
struct Body {
    var plain: [String] = []
    var html: [String] = []
    var attachments: [MailAttachment] = []
}

/// Walks the entity tree over the raw bytes (every entity is a range of them, nothing is copied until decoded).
struct EntityReader {
    let raw: [UInt8]
    let limits: MailLimits
    var parts = 0
    var partTypes: [String] = []

    init(raw: [UInt8], limits: MailLimits) {
        self.raw = raw
        self.limits = limits
    }

    func mediaType(_ value: String, default fallback: String) -> String {
        let type = value.trimmingASCIIWhitespace().lowercased()
        guard let slash = type.firstIndex(of: "/"), slash != type.startIndex, type.index(after: slash) != type.endIndex,
            !type.contains(where: { $0.isWhitespace })
        else { return fallback }
        return type
    }

    /// `asFiles`: every leaf is an attachment, text too (the resources of a multipart/related).
    mutating func read(headers: MailHeaders, body range: Range<Int>, depth: Int, defaultType: String, asFiles: Bool = false, into body: inout Body)
        throws(MailParseError)
    {
        let contentType = HeaderParameters.parse(headers.first("Content-Type") ?? defaultType)
        var type = mediaType(contentType.value, default: defaultType)
        let boundary = contentType["boundary"] ?? ""
        if type.hasPrefix("multipart/"), boundary.isEmpty || boundary.utf8.count > 200 { type = "text/plain" }
        partTypes.append(type)

        guard type.hasPrefix("multipart/") else {
            readLeaf(headers: headers, contentType: contentType, type: type, body: range, asFiles: asFiles, into: &body)
            return
        }
        if depth >= limits.maxDepth { throw MailParseError("nesting deeper than \(limits.maxDepth) levels") }
        let childDefault = type == "multipart/digest" ? "message/rfc822" : "text/plain"
        var children: [(MailHeaders, Range<Int>)] = []
        for part in try splitMultipart(range, boundary: Array(boundary.utf8)) {
            let (partHeaders, bodyStart) = try HeaderSection.parse(raw, from: part.lowerBound, to: part.upperBound, limits: limits, isMessage: false)
            children.append((partHeaders, bodyStart..<part.upperBound))
        }
        switch type {
        case "multipart/alternative":
            // One of the versions is the body: text/plain preferred, HTML kept as well; files from any of them.
            var versions: [Body] = []
            for (childHeaders, childRange) in children {
                var version = Body()
                try read(headers: childHeaders, body: childRange, depth: depth + 1, defaultType: childDefault, asFiles: asFiles, into: &version)
                versions.append(version)
            }
            if let plain = versions.first(where: { $0.plain.contains(where: \.hasVisibleText) }) { body.plain += plain.plain }
            if let html = versions.last(where: { !$0.html.isEmpty }) { body.html += html.html }
            for version in versions { body.attachments += version.attachments }
        case "multipart/related":
            // The root (the first part, or the `start` one) is the body; the rest are resources it shows.
            let start = contentType["start"].flatMap { MessageIds.parse($0).first }
            let rootIndex = children.firstIndex { start != nil && $0.0.first("Content-ID").flatMap { MessageIds.parse($0).first } == start } ?? 0
            for (index, (childHeaders, childRange)) in children.enumerated() {
                if index == rootIndex {
                    try read(headers: childHeaders, body: childRange, depth: depth + 1, defaultType: childDefault, asFiles: asFiles, into: &body)
                } else {
                    // Resources are files (text ones too, never mixed into the body); those with a Content-ID are shown inline.
                    var resource = Body()
                    try read(headers: childHeaders, body: childRange, depth: depth + 1, defaultType: childDefault, asFiles: true, into: &resource)
                    for var attachment in resource.attachments {
                        if attachment.contentId != nil { attachment.isInline = true }
                        body.attachments.append(attachment)
                    }
                }
            }
        default:
            // mixed, report, signed, digest and unknown multiparts: every part in order.
            for (childHeaders, childRange) in children {
                try read(headers: childHeaders, body: childRange, depth: depth + 1, defaultType: childDefault, asFiles: asFiles, into: &body)
            }
        }
    }

    mutating func readLeaf(headers: MailHeaders, contentType: HeaderParameters, type: String, body range: Range<Int>, asFiles: Bool, into body: inout Body) {
        let disposition = headers.first("Content-Disposition").map(HeaderParameters.parse)
        let filename = sanitizedFilename(disposition?["filename"] ?? contentType["name"] ?? "")
        let isAttachmentDisposition = disposition?.value == "attachment"
        let bytes = ContentTransferEncoding.decode(raw[range], encoding: headers.first("Content-Transfer-Encoding"))
        if type == "text/plain" || type == "text/html", !asFiles, !isAttachmentDisposition, filename.isEmpty {
            let charset = contentType["charset"]
            let wide = MailCharset.normalize(charset).hasPrefix("utf-16") || MailCharset.normalize(charset).hasPrefix("utf16")
            var text = MailCharset.decode(wide ? bytes : MailParser.normalizeLineEndings(bytes), charset: charset)
            if type == "text/plain" {
                if contentType["format"]?.lowercased() == "flowed" { text = Flowed.unwrap(text, deleteSpace: contentType["delsp"]?.lowercased() == "yes") }
                body.plain.append(text)
            } else {
                body.html.append(text)
            }
            return
        }
        var name = filename
        if name.isEmpty, type == "message/rfc822" {
            // A forwarded message: named after its subject.
            let subject = (try? HeaderSection.parse(raw, from: range.lowerBound, to: range.upperBound, limits: limits, isMessage: false))?.0
                .first("Subject").map { AddressList.collapseWhitespace(EncodedWords.decode($0)) }
            // A subject is not a path: its slashes become dashes rather than cutting it short.
            let flat = String((subject ?? "").prefix(100)).replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: "\\", with: "-")
            let base = sanitizedFilename(flat)
            name = base.isEmpty ? "" : base + ".eml"
        }
        let contentId = headers.first("Content-ID").flatMap { MessageIds.parse($0).first }.map { String($0.dropFirst().dropLast()) }
        body.attachments.append(
            MailAttachment(filename: name, contentType: type, bytes: bytes, contentId: contentId, isInline: disposition?.value == "inline"))
    }

    /// The name without directories, control characters or characters file systems refuse; at most 200 characters.
    func sanitizedFilename(_ name: String) -> String {
        var base = Substring(name)
        if let slash = base.lastIndex(where: { $0 == "/" || $0 == "\\" }) { base = base[base.index(after: slash)...] }
        let cleaned = String(
            String.UnicodeScalarView(
                base.unicodeScalars.filter {
                    $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) && !"<>:\"|?*".unicodeScalars.contains($0)
                }))
        let trimmed = cleaned.trimmingASCIIWhitespace()
        let safe = trimmed.allSatisfy { $0 == "." } ? "" : trimmed
        return String(safe.prefix(200))
    }

    /// The ranges of the parts between boundary lines (`--boundary`, closed by `--boundary--`). The line break
    /// before a boundary line belongs to the boundary. Without a closing line, the last part runs to the end.
    mutating func splitMultipart(_ range: Range<Int>, boundary: [UInt8]) throws(MailParseError) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var partStart: Int?
        var lineStart = range.lowerBound
        let end = range.upperBound
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end, raw[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < end ? lineEnd + 1 : end
            if let closing = boundaryLine(from: lineStart, to: lineEnd, boundary: boundary) {
                if let start = partStart {
                    var partEnd = lineStart
                    if partEnd > start, raw[partEnd - 1] == 0x0A { partEnd -= 1 }
                    if partEnd > start, raw[partEnd - 1] == 0x0D { partEnd -= 1 }
                    try appendPart(start..<max(start, partEnd), to: &result)
                }
                if closing { return result }
                partStart = next
            }
            lineStart = next
        }
        if let start = partStart, start < end { try appendPart(start..<end, to: &result) }
        return result
    }

    mutating func appendPart(_ part: Range<Int>, to result: inout [Range<Int>]) throws(MailParseError) {
        parts += 1
        if parts > limits.maxParts { throw MailParseError("more than \(limits.maxParts) parts") }
        result.append(part)
    }

    /// Whether the line is `--boundary` (nil if not), closing (`--boundary--`) or not; trailing whitespace allowed.
    func boundaryLine(from start: Int, to end: Int, boundary: [UInt8]) -> Bool? {
        guard end - start >= boundary.count + 2, raw[start] == UInt8(ascii: "-"), raw[start + 1] == UInt8(ascii: "-") else { return nil }
        for offset in 0..<boundary.count where raw[start + 2 + offset] != boundary[offset] { return nil }
        var index = start + 2 + boundary.count
        var closing = false
        if index + 1 < end, raw[index] == UInt8(ascii: "-"), raw[index + 1] == UInt8(ascii: "-") {
            closing = true
            index += 2
        }
        while index < end {
            let byte = raw[index]
            if !(byte == 0x20 || byte == 0x09 || byte == 0x0D) { return nil }
            index += 1
        }
        return closing
    }
}

/// RFC 3676 format=flowed: lines ending in a space continue on the next line (Apple Mail and Thunderbird wrap
/// this way); space-stuffing removed; the signature separator "-- " is never joined.
enum Flowed {
    static func unwrap(_ text: String, deleteSpace: Bool) -> String {
        let lines = MailParser.normalizeLineEndings(text).split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        var current = ""
        var continuing = false
        for var line in lines {
            if line.hasPrefix(" ") { line = line.dropFirst() }
            if continuing {
                current += line
            } else {
                current = String(line)
            }
            if line.hasSuffix(" "), line != "-- ", !line.hasPrefix(">") {
                if deleteSpace { current.removeLast() }
                continuing = true
            } else {
                out.append(current)
                continuing = false
            }
        }
        if continuing { out.append(current) }
        return out.joined(separator: "\n")
    }
}
