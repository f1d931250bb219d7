import Vapor

extension HTTPHeaders {
    /// Marks the response as a download named `filename`: every download (attachments, profile exports and
    /// templates) names its file through here.
    mutating func setAttachment(filename: String) {
        replaceOrAdd(name: .contentDisposition, value: DownloadDisposition.attachment(filename: filename))
    }
}

/// `Content-Disposition: attachment` (RFC 6266): an ASCII `filename` for old clients and the exact name in
/// `filename*` (RFC 8187, UTF-8, percent-encoded), which current browsers prefer. Nothing of the name reaches the
/// header unescaped, whatever it holds.
enum DownloadDisposition {
    static func attachment(filename: String) -> String {
        "attachment; filename=\"\(asciiFallback(filename))\"; filename*=UTF-8''\(percentEncoded(filename))"
    }

    /// Printable ASCII as is; quotes, backslashes, percent signs (some clients decode them), control characters
    /// and anything beyond ASCII become `_`.
    static func asciiFallback(_ filename: String) -> String {
        String(
            String.UnicodeScalarView(
                filename.unicodeScalars.map { scalar in
                    (0x20...0x7E).contains(scalar.value) && scalar != "\"" && scalar != "\\" && scalar != "%" ? scalar : "_"
                }))
    }

    /// RFC 8187's `value-chars`: `attr-char` bytes as they are, every other UTF-8 byte as `%XX`.
    static func percentEncoded(_ filename: String) -> String {
        var encoded = ""
        for byte in filename.utf8 {
            if isAttrChar(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return encoded
    }

    private static func isAttrChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$&+-.^_`|~".utf8.contains(byte)
        }
    }
}

/// The outermost middleware, so it sees every response, errors included. It adds the headers every
/// response carries (no content sniffing; API answers, which may hold personal data, never cached), and
/// is the last guard against response splitting: a header whose name or value holds CR, LF or NUL is not
/// sent (it is dropped, the rest of the response goes out, and the drop is logged as an error). Validation
/// keeps such text out of everything a header is made from; this keeps a slip from ever reaching the wire.
/// A plain (future) middleware: an async one costs a task per request.
struct HeaderGuardMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).map { response in
            response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
            if request.url.path.hasPrefix("/api/"), !response.headers.contains(name: .cacheControl) {
                response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            }
            Self.dropUnsafeHeaders(of: response, logger: request.logger)
            return response
        }
    }

    static func dropUnsafeHeaders(of response: Response, logger: Logger) {
        guard response.headers.contains(where: { isUnsafe($0.name) || isUnsafe($0.value) }) else { return }
        var kept: [(String, String)] = []
        var dropped: [String] = []
        for (name, value) in response.headers {
            if isUnsafe(name) || isUnsafe(value) { dropped.append(name.debugDescription) } else { kept.append((name, value)) }
        }
        logger.error("response headers holding CR, LF or NUL were not sent", metadata: ["headers": .string(dropped.joined(separator: ", "))])
        response.headers = HTTPHeaders(kept)
    }

    static func isUnsafe(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
    }
}
