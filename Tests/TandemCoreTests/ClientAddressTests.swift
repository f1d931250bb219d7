import Testing

@testable import TandemCore

@Suite struct ClientAddressTests {
    let proxies = [CIDRRange("127.0.0.1/32")!, CIDRRange("10.0.0.0/8")!]

    func resolve(_ peer: String?, _ forwardedFor: [String], trusted: [CIDRRange]? = nil) -> String? {
        ClientAddress.resolve(peer: peer, forwardedFor: forwardedFor, trustedProxies: trusted ?? proxies)
    }

    @Test func aTrustedProxyNamesTheClient() {
        #expect(resolve("127.0.0.1", ["203.0.113.9"]) == "203.0.113.9")
        // Two trusted hops (a load balancer, then nginx on the host); several headers read as one list.
        #expect(resolve("127.0.0.1", ["203.0.113.9, 10.1.2.3"]) == "203.0.113.9")
        #expect(resolve("127.0.0.1", ["203.0.113.9", "10.1.2.3"]) == "203.0.113.9")
        #expect(resolve("127.0.0.1", ["2001:db8::1"]) == "2001:db8::1")
    }

    @Test func whatTheClientWroteItselfIsNotBelieved() {
        // The client put 198.51.100.7 first to pass for another address; the proxy appended the real one.
        #expect(resolve("127.0.0.1", ["198.51.100.7, 203.0.113.9"]) == "203.0.113.9")
        // A client claiming to be a trusted proxy's neighbour still stops the walk at itself.
        #expect(resolve("127.0.0.1", ["10.9.9.9, 203.0.113.9"]) == "203.0.113.9")
        // Without a proxy in between the header is ignored.
        #expect(resolve("203.0.113.9", ["127.0.0.1"]) == "203.0.113.9")
        // No trusted proxies configured: always the peer.
        #expect(resolve("127.0.0.1", ["203.0.113.9"], trusted: []) == "127.0.0.1")
    }

    @Test func garbageStopsTheWalk() {
        #expect(resolve("127.0.0.1", ["not-an-address"]) == "127.0.0.1")
        #expect(resolve("127.0.0.1", ["203.0.113.9, unknown"]) == "127.0.0.1")
        #expect(resolve("127.0.0.1", ["", " "]) == "127.0.0.1")
        #expect(resolve("127.0.0.1", []) == "127.0.0.1")
        #expect(resolve(nil, ["203.0.113.9"]) == nil)
        // Only trusted hops: the leftmost is as far as we can see.
        #expect(resolve("127.0.0.1", ["10.1.1.1"]) == "10.1.1.1")
    }
}
