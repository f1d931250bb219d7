import Foundation

/// This process among the instances on one database: host, process id and a random part (a restarted process may
/// reuse its pid), written where it claims work so an operator sees who holds what.
enum ProcessIdentity {
    static let name: String = {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
    }()
}
