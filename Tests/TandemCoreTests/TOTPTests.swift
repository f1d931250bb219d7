import Foundation
import TandemCore
import Testing

/// RFC 6238 (TOTP) and RFC 4648 (base32) as the core implements them.
@Suite struct TOTPTests {
    /// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890", 8 digits, 30-second steps.
    static let vectors: [(time: TimeInterval, code: String)] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ]
    static let seed = Array("12345678901234567890".utf8)

    @Test(arguments: vectors.map(\.time))
    func rfc6238AppendixBVectors(_ time: TimeInterval) {
        let expected = Self.vectors.first { $0.time == time }!.code
        let totp = TOTP(secret: Self.seed, digits: 8)
        #expect(totp.code(at: Date(timeIntervalSince1970: time)) == expected)
        #expect(totp.verify(expected, at: Date(timeIntervalSince1970: time)) == UInt64(time / 30))
        // Six digits are the same number's last six.
        #expect(TOTP(secret: Self.seed).code(at: Date(timeIntervalSince1970: time)) == String(expected.suffix(6)))
    }

    @Test func codesKeepTheirLeadingZeros() {
        let code = TOTP(secret: Self.seed, digits: 8).code(at: Date(timeIntervalSince1970: 1_111_111_109))
        #expect(code == "07081804")
        #expect(code.count == 8)
    }

    @Test func verifyAcceptsOneStepEitherSide() {
        let totp = TOTP(secret: Self.seed)
        let now = Date(timeIntervalSince1970: 1_700_000_015)
        let step = UInt64(1_700_000_015 / 30)
        #expect(totp.verify(totp.code(counter: step), at: now) == step)
        #expect(totp.verify(totp.code(counter: step - 1), at: now) == step - 1)
        #expect(totp.verify(totp.code(counter: step + 1), at: now) == step + 1)
        #expect(totp.verify(totp.code(counter: step - 2), at: now) == nil)
        #expect(totp.verify(totp.code(counter: step + 2), at: now) == nil)
        // Without a window only the current step counts.
        #expect(totp.verify(totp.code(counter: step + 1), at: now, window: 0) == nil)
        #expect(totp.verify(totp.code(counter: step), at: now, window: 0) == step)
        // The edges of a step belong to it.
        #expect(totp.code(at: Date(timeIntervalSince1970: TimeInterval(step * 30))) == totp.code(at: Date(timeIntervalSince1970: TimeInterval(step * 30 + 29))))
    }

    @Test func verifyRefusesMalformedCodes() {
        let totp = TOTP(secret: Self.seed)
        let now = Date(timeIntervalSince1970: 1_700_000_015)
        let code = totp.code(at: now)
        #expect(totp.verify(" \(code.prefix(3)) \(code.suffix(3)) ", at: now) != nil, "spaces as authenticator apps show them")
        for bad in ["", String(code.prefix(5)), code + "0", "abcdef", "12345a", "１２３４５６", "-12345"] {
            #expect(totp.verify(bad, at: now) == nil, "'\(bad)'")
        }
    }

    @Test func base32RoundTripsAndMatchesRFC4648() throws {
        // RFC 4648 §10, without padding.
        let vectors = ["": "", "f": "MY", "fo": "MZXQ", "foo": "MZXW6", "foob": "MZXW6YQ", "fooba": "MZXW6YTB", "foobar": "MZXW6YTBOI"]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
        }
        // Padding, lower case and spaces are accepted when reading; other letters are not.
        #expect(Base32.decode("mzxw 6ytb oi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil)
        #expect(Base32.decode("MZXW8") == nil)
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Base32.encode(bytes)
            #expect(encoded.allSatisfy { "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains($0) })
            #expect(Base32.decode(encoded) == bytes)
        }
        let secret = TOTP.generateSecret()
        #expect(secret.count == 20)
        #expect(secret != TOTP.generateSecret())
        #expect(Base32.decode(Base32.encode(secret)) == secret)
    }

    @Test func constantTimeComparison() {
        #expect(ConstantTime.equals("123456", "123456"))
        #expect(ConstantTime.equals("", ""))
        #expect(!ConstantTime.equals("123456", "123457"))
        #expect(!ConstantTime.equals("123456", "023456"))
        #expect(!ConstantTime.equals("12345", "123456"), "a prefix is not equal")
        #expect(!ConstantTime.equals("123456", "12345"))
        #expect(!ConstantTime.equals("123456", "1234560"))
        #expect(!ConstantTime.equals("", "0"))
        // A missing byte is not confused with a zero byte.
        #expect(!ConstantTime.equals("abc", "abc\u{0}"))
    }

    @Test func provisioningURI() {
        let totp = TOTP(secret: Self.seed)
        let uri = totp.provisioningURI(account: "nina@tandem.local", issuer: "Tandem MSP")
        #expect(uri == "otpauth://totp/Tandem%20MSP:nina@tandem.local?secret=\(Base32.encode(Self.seed))&issuer=Tandem%20MSP&algorithm=SHA1&digits=6&period=30")
    }
}
