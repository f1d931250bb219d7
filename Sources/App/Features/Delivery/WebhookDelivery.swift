import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TandemCore

/// Webhook calls from the outbox: every address the host resolves to is checked (`SSRFGuard`) and
/// the connection goes to a checked one (AsyncHTTPClient's `dnsOverride`), so a name that resolves
/// differently a moment later changes nothing. Redirects are not followed. Signed with the
/// subscription's secret over the timestamp and the body (`Tandem-Signature`).
enum WebhookDelivery {
    static let timeout: TimeAmount = .seconds(10)

    /// One call; `secret` nil when the subscription is gone (the message fails for good), a failure when its
    /// secret did not open (a server with another vault key: tried again, as another server may hold the right one).
    static func send(
        _ message: OutboxMessage, secret: Result<String, any Error>?, guard ssrf: SSRFGuard, now: Date, group: any EventLoopGroup
    ) async -> Outbox.Result {
        let key: String
        switch secret {
        case nil: return .failed("the webhook was deleted", permanent: true)
        case .failure(let error as VaultError): return .failed("the webhook's secret did not open: \(error.publicDescription)", permanent: false)
        case .failure(let error): return .failed("the webhook's secret did not open: \(error)", permanent: false)
        case .success(let opened): key = opened
        }
        guard let components = URLComponents(string: message.recipient), let host = components.host else {
            return .failed("not a URL: \(message.recipient)", permanent: true)
        }
        let address: String
        do {
            address = try await checkedAddress(host: components.percentEncodedHost ?? host, ssrf)
        } catch let refusal as TandemError {
            if case .validation(let errors) = refusal, let first = errors.first { return .failed(first.message, permanent: true) }
            return .failed("\(refusal)", permanent: true)
        } catch {
            return .failed("\(error)", permanent: false)
        }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: timeout, read: timeout))
        configuration.dnsOverride = [host: address]
        let client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
        defer { _ = client.shutdown() }
        let body = Data(message.body.utf8)
        var request = HTTPClientRequest(url: message.recipient)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Tandem-Webhook/1")
        request.headers.add(
            name: WebhookSignature.headerName, value: WebhookSignature.header(body: body, secret: key, timestamp: Int(now.timeIntervalSince1970)))
        request.headers.add(name: "Tandem-Event", value: message.subject ?? "")
        request.headers.add(name: "Tandem-Delivery", value: message.messageId ?? message.id!.uuidString)
        request.body = .bytes(ByteBuffer(data: body))
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200..<300: return .sent
            case 300..<400: return .failed("\(response.status.code): redirects are not followed; give the final URL", permanent: true)
            case 408, 429, 500...: return .failed("\(response.status.code) \(response.status.reasonPhrase)", permanent: false)
            default: return .failed("\(response.status.code) \(response.status.reasonPhrase)", permanent: true)
            }
        } catch {
            return .failed("\(error)", permanent: false)
        }
    }

    /// A literal host checked as is; a name resolved and every address checked (one refused address
    /// refuses the host: the resolver could hand that one out next time). A name that does not resolve is
    /// `Unresolved`, which the outbox retries: the resolver may be down for a moment, or the name not yet
    /// published.
    static func checkedAddress(host: String, _ ssrf: SSRFGuard) async throws -> String {
        if let literal = try ssrf.check(host: host) { return literal.description }
        let addresses = try await resolve(host)
        guard let first = addresses.first else { throw Unresolved(host: host, reason: "no address") }
        for address in addresses { try ssrf.check(address) }
        return first.description
    }

    struct Unresolved: Error, CustomStringConvertible {
        let host: String
        let reason: String
        var description: String { "'\(host)' did not resolve (\(reason)); it is tried again" }
    }

    /// The host's addresses (getaddrinfo, on NIO's thread pool: it blocks).
    static func resolve(_ host: String) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let code = getaddrinfo(host, nil, &hints, &list)
            guard code == 0 else { throw Unresolved(host: host, reason: String(cString: gai_strerror(code))) }
            defer { freeaddrinfo(list) }
            var addresses: [IPAddress] = []
            var entry = list
            while let current = entry {
                if let socket = current.pointee.ai_addr {
                    if current.pointee.ai_family == AF_INET {
                        let bytes = socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
                        if let address = IPAddress(bytes: bytes) { addresses.append(address) }
                    } else if current.pointee.ai_family == AF_INET6 {
                        let bytes = socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
                        if let address = IPAddress(bytes: bytes) { addresses.append(address) }
                    }
                }
                entry = current.pointee.ai_next
            }
            return Array(Set(addresses))
        }
    }
}
