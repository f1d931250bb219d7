import Foundation

/// An IP address, IPv4 or IPv6, as a resolver or a socket gives it.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    /// 16 bytes.
    case v6([UInt8])

    /// The canonical text forms: dotted-quad IPv4 (four decimal parts, each at most 255) or IPv6
    /// (`::` compression, an IPv4 tail, optional brackets; no zone id). Addresses from DNS answers come this way.
    public init?(_ text: String) {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text.contains(":") {
            guard let bytes = IPAddress.parseIPv6(text) else { return nil }
            self = .v6(bytes)
        } else {
            guard let value = IPAddress.parseDottedQuad(text) else { return nil }
            self = .v4(value)
        }
    }

    /// 4 or 16 bytes, network order (a `sockaddr`'s address).
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16: self = .v6(bytes)
        default: return nil
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let value): [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        case .v6(let bytes): bytes
        }
    }

    public var description: String {
        switch self {
        case .v4: return bytes.map(String.init).joined(separator: ".")
        case .v6(let bytes):
            let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
            return groups.map { String($0, radix: 16) }.joined(separator: ":")
        }
    }

    /// The IPv4 address an IPv6 address carries and delivers to: IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated
    /// `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::`.
    public var embeddedIPv4: IPAddress? {
        guard case .v6(let b) = self else { return nil }
        let tail = IPAddress(bytes: Array(b[12..<16]))
        let zeros = { (range: Range<Int>) in b[range].allSatisfy { $0 == 0 } }
        if zeros(0..<10), b[10] == 0xFF, b[11] == 0xFF { return tail }
        if zeros(0..<8), b[8] == 0xFF, b[9] == 0xFF, b[10] == 0, b[11] == 0 { return tail }
        if zeros(0..<12), !zeros(12..<16), self != IPAddress.v6(Array(repeating: 0, count: 15) + [1]) { return tail }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B, zeros(4..<12) { return tail }
        if b[0] == 0x20, b[1] == 0x02 { return IPAddress(bytes: Array(b[2..<6])) }
        return nil
    }

    static func parseDottedQuad(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), let byte = UInt32(part), byte <= 255,
                part.count == 1 || !part.hasPrefix("0")
            else { return nil }
            value = value << 8 | byte
        }
        return value
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        guard !text.contains("%") else { return nil }  // zone ids name a local interface: never a webhook target
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseDottedQuad(String(piece)) else { return nil }
                    result += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                } else {
                    guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all: [UInt16]
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            // An IPv4 tail is only allowed at the end.
            if halves[0].contains(".") { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            all = head
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

/// A range of addresses, `10.0.0.0/8` or `fd00::/8`; an address alone is its own /32 or /128.
public struct CIDRRange: Codable, Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        let maxPrefix = address.bytes.count * 8
        let prefix = parts.count == 2 ? Int(parts[1]) : maxPrefix
        guard let prefix, (0...maxPrefix).contains(prefix) else { return nil }
        self.address = address
        self.prefix = prefix
    }

    public func contains(_ other: IPAddress) -> Bool {
        let a = address.bytes, b = other.bytes
        guard a.count == b.count else { return false }
        var remaining = prefix
        for index in 0..<a.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if a[index] & mask != b[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String { "\(address)/\(prefix)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let range = CIDRRange(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not an address range such as 10.0.0.0/8"))
        }
        self = range
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// What kind of address a target is; only `.global` is reachable without an administrator's allow-list.
public enum AddressClass: String, Sendable, CaseIterable {
    case global, unspecified, loopback, privateNetwork, sharedAddressSpace, linkLocal, cloudMetadata, multicast, broadcast, uniqueLocal, reserved

    var label: String {
        switch self {
        case .global: "a public address"
        case .unspecified: "the unspecified address"
        case .loopback: "a loopback address"
        case .privateNetwork: "a private network address"
        case .sharedAddressSpace: "a carrier-grade NAT address (100.64.0.0/10)"
        case .linkLocal: "a link-local address"
        case .cloudMetadata: "the cloud metadata address"
        case .multicast: "a multicast address"
        case .broadcast: "the broadcast address"
        case .uniqueLocal: "an IPv6 unique local address (fc00::/7)"
        case .reserved: "a reserved or documentation address"
        }
    }
}

/// A host as it appears in a URL, after the parsing resolvers do.
public enum URLHost: Hashable, Sendable {
    case address(IPAddress)
    case name(String)

    /// Parses a URL's host the way WHATWG URL parsers and `inet_aton` do, so `2130706433`, `0x7f.1`, `0177.0.0.1`
    /// and `127.1` are all 127.0.0.1 (a check that read them as names would let them through to the resolver).
    /// Brackets hold IPv6. A name is lowercased without its trailing dot. Nil: not a valid host.
    public static func parse(_ host: String) -> URLHost? {
        let lowered = host.lowercased()
        if lowered.hasPrefix("[") {
            guard lowered.hasSuffix("]"), let bytes = IPAddress.parseIPv6(String(lowered.dropFirst().dropLast())) else { return nil }
            return .address(.v6(bytes))
        }
        guard !lowered.isEmpty, !lowered.contains(":") else { return nil }
        var parts = lowered.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        guard let last = parts.last, !last.isEmpty else { return nil }
        let endsInNumber = last.allSatisfy { $0.isASCII && $0.isNumber } || (last.hasPrefix("0x") && last.dropFirst(2).allSatisfy(\.isHexDigit))
        guard endsInNumber else {
            let name = parts.joined(separator: ".")
            let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-._")
            return name.allSatisfy(allowed.contains) && !parts.contains("") ? .name(name) : nil
        }
        guard parts.count <= 4 else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = number(part) else { return nil }
            numbers.append(number)
        }
        guard numbers.dropLast().allSatisfy({ $0 <= 255 }) else { return nil }
        let lastLimit = UInt64(1) << (8 * (5 - numbers.count))
        guard numbers[numbers.count - 1] < lastLimit else { return nil }
        var value = numbers[numbers.count - 1]
        for (index, number) in numbers.dropLast().enumerated() { value += number << (8 * (3 - index)) }
        return .address(.v4(UInt32(value)))
    }

    /// One part of an IPv4 host: `0x` hex, leading-zero octal, else decimal.
    private static func number(_ part: String) -> UInt64? {
        if part.hasPrefix("0x") {
            let digits = part.dropFirst(2)
            return digits.isEmpty ? 0 : (digits.count <= 16 ? UInt64(digits, radix: 16) : nil)
        }
        if part.count > 1, part.hasPrefix("0") { return part.count <= 22 ? UInt64(part.dropFirst(), radix: 8) : nil }
        return part.count <= 19 ? UInt64(part, radix: 10) : nil
    }
}

/// Where outgoing requests (webhooks) may go: public addresses, and the ranges an administrator allows.
/// The server checks the literal host first (`check(host:)`), then every address DNS gives (`check(_:)`),
/// connects to a checked address, and checks again on each redirect (or does not follow redirects).
public struct SSRFGuard: Codable, Sendable, Equatable {
    public var allowedRanges: [CIDRRange]

    public init(allowedRanges: [CIDRRange] = []) { self.allowedRanges = allowedRanges }

    /// The class of an address; an IPv6 form that carries an IPv4 address (mapped, NAT64, 6to4…) is the class of that IPv4 address.
    public static func classify(_ address: IPAddress) -> AddressClass {
        switch address {
        case .v4(let value):
            func within(_ base: UInt32, _ bits: UInt32) -> Bool { value >> (32 - bits) == base >> (32 - bits) }
            if value == 0xA9FE_A9FE { return .cloudMetadata }  // 169.254.169.254
            if value == 0xFFFF_FFFF { return .broadcast }
            if within(0x0000_0000, 8) { return .unspecified }  // 0.0.0.0/8, "this network"
            if within(0x7F00_0000, 8) { return .loopback }
            if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return .privateNetwork }
            if within(0x6440_0000, 10) { return .sharedAddressSpace }
            if within(0xA9FE_0000, 16) { return .linkLocal }
            if within(0xE000_0000, 4) { return .multicast }
            // 192.0.0.0/24 protocol assignments, documentation ranges, 198.18.0.0/15 benchmarking, 240.0.0.0/4.
            if within(0xC000_0000, 24) || within(0xC000_0200, 24) || within(0xC633_6400, 24) || within(0xCB00_7100, 24) || within(0xC612_0000, 15)
                || within(0xF000_0000, 4)
            {
                return .reserved
            }
            return .global
        case .v6(let b):
            if let v4 = address.embeddedIPv4 { return classify(v4) }
            if b.allSatisfy({ $0 == 0 }) { return .unspecified }
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .loopback }
            if b[0] & 0xFE == 0xFC { return .uniqueLocal }
            if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return .linkLocal }
            if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return .privateNetwork }  // fec0::/10, deprecated site-local
            if b[0] == 0xFF { return .multicast }
            // 2001:db8::/32 documentation, 2001::/32 Teredo (its IPv4 is obfuscated), 100::/64 discard,
            // 64:ff9b:1::/48 local NAT64, the rest of ::/8.
            if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
                || (b[0] == 0x01 && b[1] == 0 && b[2..<8].allSatisfy { $0 == 0 }) || (b[0] == 0 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B)
                || b[0] == 0
            {
                return .reserved
            }
            return .global
        }
    }

    /// Why a request may not go to `address`, or nil when it may.
    public func refusal(_ address: IPAddress) -> String? {
        let addresses = [address] + (address.embeddedIPv4.map { [$0] } ?? [])
        if addresses.contains(where: { candidate in allowedRanges.contains { $0.contains(candidate) } }) { return nil }
        let kind = Self.classify(address)
        guard kind != .global else { return nil }
        let form = address.embeddedIPv4.map { " (an IPv6 form of \($0))" } ?? ""
        return "\(address)\(form) is \(kind.label); webhooks go to public addresses unless an administrator allows the range"
    }

    public func check(_ address: IPAddress) throws(TandemError) {
        if let refusal = refusal(address) { throw .invalid("url", refusal) }
    }

    /// A webhook URL as saved: `http` or `https`, with a host that `check(host:)` accepts. Returns the literal
    /// address when the host is one (nil for a name, to check after resolution).
    public func check(url text: String) throws(TandemError) -> IPAddress? {
        guard let components = URLComponents(string: Whitespace.trim(text)), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw .invalid("url", "'\(text)' is not an absolute URL")
        }
        guard scheme == "https" || scheme == "http" else { throw .invalid("url", "webhooks use http or https, not \(scheme)") }
        // Foundation gives an IPv6 host with or without its brackets, depending on the version.
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return try check(host: bracketed)
    }

    /// The literal address of a URL's host, checked, or nil when the host is a name to resolve (then check each
    /// address the resolver answers). `localhost` names are refused without asking DNS.
    public func check(host: String) throws(TandemError) -> IPAddress? {
        switch URLHost.parse(host) {
        case nil:
            throw .invalid("url", "'\(host)' is not a valid host")
        case .address(let address):
            try check(address)
            return address
        case .name(let name):
            if name == "localhost" || name.hasSuffix(".localhost") {
                throw .invalid("url", "'\(host)' is a loopback name; webhooks go to public addresses")
            }
            return nil
        }
    }
}
