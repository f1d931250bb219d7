import Foundation

/// The address a request came from when reverse proxies stand in front (README "Running several instances").
/// Only proxies the operator names are believed: each appends the address it saw to `X-Forwarded-For`, so the
/// list is read from its right end, past the trusted proxies, to the first address that is not one. Without
/// trusted proxies, or from a peer that is not one, the peer itself is the client: a header any client can
/// send never decides its own rate limit or its access to `/metrics`.
public enum ClientAddress {
    public static func resolve(peer: String?, forwardedFor: [String], trustedProxies: [CIDRRange]) -> String? {
        guard var address = peer else { return nil }
        func trusted(_ text: String) -> Bool {
            guard let parsed = IPAddress(text) else { return false }
            return trustedProxies.contains { $0.contains(parsed) }
        }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            // Not a proxy we trust, or an entry that is not an address: the walk stops where belief ends.
            guard trusted(address), IPAddress(hop) != nil else { return address }
            address = hop
        }
        return address
    }
}
