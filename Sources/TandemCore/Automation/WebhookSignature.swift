import Crypto
import Foundation

/// Webhook signatures: HMAC-SHA256 with the subscription's secret over `"<timestamp>.<body>"`, sent as
/// `Tandem-Signature: t=<unix seconds>,v1=<hex>`. The timestamp is signed so a captured delivery cannot be
/// replayed later than the receiver's tolerance.
public enum WebhookSignature {
    public static let headerName = "Tandem-Signature"

    /// Why a signature was not accepted.
    public enum Failure: String, Error, Sendable, Equatable {
        case malformed, outsideTolerance, mismatch
    }

    /// A new secret: 32 random bytes, hex, prefixed so it is recognisable in a receiver's configuration.
    /// Shown once, at creation; the server stores it (it must sign with it).
    public static func makeSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.hexString
    }

    public static func signature(body: Data, secret: String, timestamp: Int) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return Data(code).hexString
    }

    /// The header's value for a delivery at `timestamp`.
    public static func header(body: Data, secret: String, timestamp: Int) -> String {
        "t=\(timestamp),v1=\(signature(body: body, secret: secret, timestamp: timestamp))"
    }

    /// What a receiver does: parse the header, refuse a timestamp more than `tolerance` seconds from `now`, and
    /// compare (in constant time) each `v1` given (several while a secret is rotated) with the expected code.
    public static func verify(header: String, body: Data, secret: String, now: Int, tolerance: Int = 300) throws(Failure) {
        var timestamp: Int?
        var candidates: [Data] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { Whitespace.trim(String($0)) }
            guard pair.count == 2 else { throw .malformed }
            switch pair[0] {
            case "t":
                guard let value = Int(pair[1]) else { throw .malformed }
                timestamp = value
            case "v1":
                guard let bytes = Data(hex: pair[1]), bytes.count == SHA256.byteCount else { throw .malformed }
                candidates.append(bytes)
            default:
                continue  // other schemes, for later versions
            }
        }
        guard let timestamp, !candidates.isEmpty else { throw .malformed }
        guard abs(now - timestamp) <= tolerance else { throw .outsideTolerance }
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let key = SymmetricKey(data: Data(secret.utf8))
        // `isValidAuthenticationCode` compares in constant time.
        guard candidates.contains(where: { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: message, using: key) }) else {
            throw .mismatch
        }
    }
}

extension Data {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
