import Crypto
import Foundation
import TandemCore
import Testing

/// Webhook signatures and the SSRF guard's reading of every address form.
@Suite struct AutomationWebhookTests {
    let body = Data(#"{"type":"ticket.created","id":"42"}"#.utf8)
    let secret = "whsec_test"

    // MARK: Signatures

    @Test func theSignatureIsHMACSHA256OverTimestampDotBody() {
        let header = WebhookSignature.header(body: body, secret: secret, timestamp: 1_796_425_375)
        // Computed independently: HMAC-SHA256 of the exact bytes "1796425375.<body>".
        let expected = HMAC<SHA256>.authenticationCode(
            for: Data("1796425375.".utf8) + body, using: SymmetricKey(data: Data(secret.utf8))
        ).map { String(format: "%02x", $0) }.joined()
        #expect(header == "t=1796425375,v1=\(expected)")
    }

    @Test func verifyAcceptsAValidSignatureWithinTheTolerance() {
        let header = WebhookSignature.header(body: body, secret: secret, timestamp: 1000)
        #expect(throws: Never.self) { try WebhookSignature.verify(header: header, body: body, secret: secret, now: 1000) }
        #expect(throws: Never.self) { try WebhookSignature.verify(header: header, body: body, secret: secret, now: 1300) }
        #expect(throws: WebhookSignature.Failure.outsideTolerance) { try WebhookSignature.verify(header: header, body: body, secret: secret, now: 1301) }
        #expect(throws: WebhookSignature.Failure.outsideTolerance) { try WebhookSignature.verify(header: header, body: body, secret: secret, now: 600) }
    }

    @Test func verifyRefusesATamperedBodyAWrongSecretAndBadHeaders() {
        let header = WebhookSignature.header(body: body, secret: secret, timestamp: 1000)
        #expect(throws: WebhookSignature.Failure.mismatch) {
            try WebhookSignature.verify(header: header, body: body + Data(" ".utf8), secret: secret, now: 1000)
        }
        #expect(throws: WebhookSignature.Failure.mismatch) { try WebhookSignature.verify(header: header, body: body, secret: "other", now: 1000) }
        // The timestamp is signed: moving it breaks the signature.
        let moved = header.replacingOccurrences(of: "t=1000", with: "t=1001")
        #expect(throws: WebhookSignature.Failure.mismatch) { try WebhookSignature.verify(header: moved, body: body, secret: secret, now: 1000) }
        for bad in ["", "t=1000", "v1=abcd", "t=x,v1=00", "t=1000,v1=zz", "t=1000,v1=abcd", "garbage"] {
            #expect(throws: WebhookSignature.Failure.malformed, "\(bad)") { try WebhookSignature.verify(header: bad, body: body, secret: secret, now: 1000) }
        }
    }

    @Test func duringARotationEitherSignatureVerifies() {
        let old = WebhookSignature.signature(body: body, secret: "old", timestamp: 1000)
        let new = WebhookSignature.signature(body: body, secret: "new", timestamp: 1000)
        let header = "t=1000,v1=\(old),v1=\(new)"
        #expect(throws: Never.self) { try WebhookSignature.verify(header: header, body: body, secret: "new", now: 1000) }
        #expect(throws: Never.self) { try WebhookSignature.verify(header: header, body: body, secret: "old", now: 1000) }
    }

    @Test func secretsAreRandomAndLong() {
        let a = WebhookSignature.makeSecret(), b = WebhookSignature.makeSecret()
        #expect(a != b)
        #expect(a.hasPrefix("whsec_") && a.count == 6 + 64)
    }

    // MARK: SSRF: address classes

    let guardian = SSRFGuard()

    func refused(_ host: String, _ guardian: SSRFGuard? = nil) -> Bool {
        do {
            _ = try (guardian ?? self.guardian).check(host: host)
            return false
        } catch {
            return true
        }
    }

    @Test func everyRefusedIPv4Class() {
        let cases: [(String, AddressClass)] = [
            ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("10.1.2.3", .privateNetwork), ("172.16.0.1", .privateNetwork),
            ("172.31.255.255", .privateNetwork), ("192.168.1.1", .privateNetwork), ("100.64.0.1", .sharedAddressSpace),
            ("100.127.255.255", .sharedAddressSpace),
            ("169.254.169.254", .cloudMetadata), ("169.254.1.1", .linkLocal), ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified),
            ("224.0.0.1", .multicast), ("239.255.255.250", .multicast), ("255.255.255.255", .broadcast), ("240.0.0.1", .reserved),
            ("192.0.2.1", .reserved), ("198.51.100.7", .reserved), ("203.0.113.9", .reserved), ("198.18.0.1", .reserved), ("192.0.0.8", .reserved),
        ]
        for (text, expected) in cases {
            let address = IPAddress(text)!
            #expect(SSRFGuard.classify(address) == expected, "\(text)")
            #expect(guardian.refusal(address) != nil, "\(text)")
        }
    }

    @Test func neighboursOfTheRangesArePublic() {
        for text in [
            "172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0", "11.0.0.1", "126.255.255.255", "128.0.0.1", "192.169.0.1", "8.8.8.8",
            "93.184.216.34", "223.255.255.255", "169.253.255.255",
        ] {
            #expect(SSRFGuard.classify(IPAddress(text)!) == .global, "\(text)")
            #expect(guardian.refusal(IPAddress(text)!) == nil, "\(text)")
        }
    }

    @Test func everyRefusedIPv6Class() {
        let cases: [(String, AddressClass)] = [
            ("::1", .loopback), ("::", .unspecified), ("fc00::1", .uniqueLocal), ("fd00:ec2::254", .uniqueLocal), ("fe80::1", .linkLocal),
            ("febf:ffff::1", .linkLocal), ("ff02::1", .multicast), ("2001:db8::1", .reserved), ("fec0::1", .privateNetwork), ("2001::1", .reserved),
            ("100::1", .reserved), ("64:ff9b:1::1", .reserved),
            // IPv4 inside IPv6: the class of the IPv4 address it reaches.
            ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback), ("::ffff:169.254.169.254", .cloudMetadata), ("::ffff:10.0.0.1", .privateNetwork),
            ("::ffff:0:192.168.0.1", .privateNetwork), ("::127.0.0.1", .loopback), ("64:ff9b::10.0.0.1", .privateNetwork), ("64:ff9b::7f00:1", .loopback),
            ("2002:7f00:1::", .loopback), ("2002:a00:1::1", .privateNetwork),
        ]
        for (text, expected) in cases {
            let address = IPAddress(text)!
            #expect(SSRFGuard.classify(address) == expected, "\(text)")
            #expect(guardian.refusal(address) != nil, "\(text)")
        }
        for text in ["2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"] {
            #expect(guardian.refusal(IPAddress(text)!) == nil, "\(text)")
        }
    }

    @Test func addressesFromBytesAsDNSGivesThem() {
        #expect(IPAddress(bytes: [127, 0, 0, 1]) == IPAddress("127.0.0.1"))
        #expect(IPAddress(bytes: Array(repeating: 0, count: 10) + [0xFF, 0xFF, 169, 254, 169, 254]) == IPAddress("::ffff:169.254.169.254"))
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(guardian.refusal(IPAddress(bytes: [169, 254, 169, 254])!)?.contains("cloud metadata") == true)
    }

    @Test func strictTextFormsRefuseWhatResolversWouldReadDifferently() {
        for bad in ["127.1", "0177.0.0.1", "1.2.3.256", "1.2.3", "::1::", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "12345::", "::ffff:1.2.3", ""] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        #expect(IPAddress("[::1]") == IPAddress("::1"))
        #expect(IPAddress("1:2:3:4:5:6:7:8")?.description == "1:2:3:4:5:6:7:8")
    }

    // MARK: SSRF: URL hosts

    @Test func urlHostsInEveryNumericFormAreTheirAddress() {
        let loopback = URLHost.address(IPAddress("127.0.0.1")!)
        let forms = [
            "127.0.0.1", "2130706433", "0x7f000001", "0x7F.0.0.1", "0177.0.0.1", "0177.0.0.01", "127.1", "127.0.1", "0x7f.1", "017700000001", "127.0.0.1.",
        ]
        for form in forms {
            #expect(URLHost.parse(form) == loopback, "\(form)")
            #expect(refused(form), "\(form)")
        }
        #expect(URLHost.parse("169.254.43518") == .address(IPAddress("169.254.169.254")!))
        #expect(URLHost.parse("0xa9fea9fe") == .address(IPAddress("169.254.169.254")!))
        #expect(URLHost.parse("0") == .address(IPAddress("0.0.0.0")!))
        #expect(URLHost.parse("10.1") == .address(IPAddress("10.0.0.1")!))
        #expect(URLHost.parse("3232235521") == .address(IPAddress("192.168.0.1")!))
        for host in ["[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[fd00::1]", "[fe80::1]", "[64:ff9b::a00:1]", "[::]"] {
            #expect(refused(host), "\(host)")
        }
    }

    @Test func invalidNumericHostsAreRefusedNotResolved() {
        for host in ["4294967296", "256.0.0.1", "1.2.3.4.5", "0x100.0.0.1", "08.0.0.1", "1.2.65536", "[::1", "[zz::]", "a..b", "host name"] {
            #expect(URLHost.parse(host) == nil, "\(host)")
            #expect(refused(host), "\(host)")
        }
    }

    @Test func namesAreLeftToTheResolverExceptLocalhost() throws {
        #expect(URLHost.parse("Hooks.Example.COM.") == .name("hooks.example.com"))
        #expect(URLHost.parse("1.2.3.example") == .name("1.2.3.example"), "a name that does not end in a number")
        #expect(try guardian.check(host: "hooks.example.com") == nil)
        #expect(refused("localhost"))
        #expect(refused("api.localhost"))
        #expect(try guardian.check(host: "93.184.216.34") == IPAddress("93.184.216.34"))
    }

    @Test func webhookURLs() throws {
        for url in [
            "http://127.0.0.1/hook", "http://2130706433/", "https://0177.0.0.1:8443/x", "http://[::1]:8080/", "https://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://localhost:3000/", "ftp://example.com/", "not a url", "/relative",
        ] {
            #expect(throws: TandemError.self, "\(url)") { try guardian.check(url: url) }
        }
        #expect(try guardian.check(url: "https://hooks.example.com/tandem?x=1") == nil)
        #expect(try guardian.check(url: "https://93.184.216.34/hook") == IPAddress("93.184.216.34"))
        #expect(throws: TandemError.invalid("url", "webhooks use http or https, not ftp")) { try guardian.check(url: "ftp://example.com/") }
    }

    // MARK: SSRF: the administrator's allow-list

    @Test func anAllowedRangeOpensOnlyThatRange() throws {
        let lab = SSRFGuard(allowedRanges: [CIDRRange("10.20.0.0/16")!, CIDRRange("fd00:1::/32")!, CIDRRange("127.0.0.1")!])
        #expect(lab.refusal(IPAddress("10.20.3.4")!) == nil)
        #expect(lab.refusal(IPAddress("::ffff:10.20.3.4")!) == nil, "the mapped form of an allowed address")
        #expect(lab.refusal(IPAddress("10.21.0.1")!) != nil)
        #expect(lab.refusal(IPAddress("fd00:1:ffff::1")!) == nil)
        #expect(lab.refusal(IPAddress("fd00:2::1")!) != nil)
        #expect(lab.refusal(IPAddress("127.0.0.1")!) == nil)
        #expect(lab.refusal(IPAddress("127.0.0.2")!) != nil)
        #expect(!refused("2130706433", lab))
        let json = try JSONEncoder().encode(lab)
        #expect(String(decoding: json, as: UTF8.self).contains("10.20.0.0\\/16") || String(decoding: json, as: UTF8.self).contains("10.20.0.0/16"))
        #expect(try JSONDecoder().decode(SSRFGuard.self, from: json) == lab)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CIDRRange].self, from: Data(#"["10.0.0.0/33"]"#.utf8)) }
        for bad in ["10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "nope/8", "10.0.0.0/x"] { #expect(CIDRRange(bad) == nil, "\(bad)") }
        #expect(CIDRRange("0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        #expect(!CIDRRange("0.0.0.0/0")!.contains(IPAddress("::1")!))
    }

    @Test func theRefusalSaysWhy() throws {
        #expect(throws: TandemError.invalid("url", "127.0.0.1 is a loopback address; webhooks go to public addresses unless an administrator allows the range"))
        {
            try guardian.check(host: "2130706433")
        }
        let mapped = try #require(guardian.refusal(IPAddress("::ffff:127.0.0.1")!))
        #expect(mapped.contains("an IPv6 form of 127.0.0.1"))
    }
}
