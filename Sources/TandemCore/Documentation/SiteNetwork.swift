import Foundation

/// A site's network information (SPEC §9, ConnectWise's "Provide Required Network Information"):
/// what a help desk technician needs at hand. One document per site, checked whole.
public struct SiteNetwork: Codable, Sendable, Equatable {
    public struct Printer: Codable, Sendable, Equatable {
        /// For example "network laser" or "individual inkjet".
        public var type: String?
        public var name: String
        public var model: String?
        public var ipAddress: String?

        public init(type: String? = nil, name: String, model: String? = nil, ipAddress: String? = nil) {
            self.type = type
            self.name = name
            self.model = model
            self.ipAddress = ipAddress
        }
    }

    public struct NetworkDrive: Codable, Sendable, Equatable {
        public var name: String
        /// The share's path or link, for example `\\fs01\shared` or `S:`.
        public var path: String

        public init(name: String, path: String) {
            self.name = name
            self.path = path
        }
    }

    public struct Email: Codable, Sendable, Equatable {
        public var provider: String
        public var adminPortalURL: String?
        /// An entry of the site's credential vault.
        public var credentialId: UUID?

        public init(provider: String, adminPortalURL: String? = nil, credentialId: UUID? = nil) {
            self.provider = provider
            self.adminPortalURL = adminPortalURL
            self.credentialId = credentialId
        }
    }

    public struct RemoteAccess: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable, CaseIterable { case vpn, rdp, other }
        public var kind: Kind
        /// The VPN or RDP address or URL.
        public var address: String
        public var setupGuide: String?

        public init(kind: Kind, address: String, setupGuide: String? = nil) {
            self.kind = kind
            self.address = address
            self.setupGuide = setupGuide
        }
    }

    /// A line-of-business application: critical to the client's daily work (not office or accounting software).
    public struct Application: Codable, Sendable, Equatable {
        public var name: String
        public var notes: String?

        public init(name: String, notes: String? = nil) {
            self.name = name
            self.notes = notes
        }
    }

    public struct ActiveDirectory: Codable, Sendable, Equatable {
        public var serverName: String
        public var domain: String?

        public init(serverName: String, domain: String? = nil) {
            self.serverName = serverName
            self.domain = domain
        }
    }

    public struct Backup: Codable, Sendable, Equatable {
        public var server: String
        /// Its IP address or URL.
        public var address: String?
        public var credentialId: UUID?

        public init(server: String, address: String? = nil, credentialId: UUID? = nil) {
            self.server = server
            self.address = address
            self.credentialId = credentialId
        }
    }

    public var printers: [Printer]
    public var networkDrives: [NetworkDrive]
    public var email: Email?
    public var remoteAccess: [RemoteAccess]
    public var applications: [Application]
    public var activeDirectory: ActiveDirectory?
    public var backup: Backup?

    public static let maxEntries = 200

    public init(
        printers: [Printer] = [], networkDrives: [NetworkDrive] = [], email: Email? = nil, remoteAccess: [RemoteAccess] = [],
        applications: [Application] = [], activeDirectory: ActiveDirectory? = nil, backup: Backup? = nil
    ) {
        self.printers = printers
        self.networkDrives = networkDrives
        self.email = email
        self.remoteAccess = remoteAccess
        self.applications = applications
        self.activeDirectory = activeDirectory
        self.backup = backup
    }

    /// Lists left out are empty, sections left out absent: a body names only what the site has.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        printers = try container.decodeIfPresent([Printer].self, forKey: .printers) ?? []
        networkDrives = try container.decodeIfPresent([NetworkDrive].self, forKey: .networkDrives) ?? []
        email = try container.decodeIfPresent(Email.self, forKey: .email)
        remoteAccess = try container.decodeIfPresent([RemoteAccess].self, forKey: .remoteAccess) ?? []
        applications = try container.decodeIfPresent([Application].self, forKey: .applications) ?? []
        activeDirectory = try container.decodeIfPresent(ActiveDirectory.self, forKey: .activeDirectory)
        backup = try container.decodeIfPresent(Backup.self, forKey: .backup)
    }

    /// The activation checklist's item: the email section and at least one other part are described
    /// ("different sites and configurations require different information").
    public var isPresent: Bool {
        email != nil
            && (!printers.isEmpty || !networkDrives.isEmpty || !remoteAccess.isEmpty || !applications.isEmpty || activeDirectory != nil || backup != nil)
    }

    /// The credential entries the document links, for the caller to check they are the site's.
    public var credentialIds: [(field: String, id: UUID)] {
        [("email.credentialId", email?.credentialId), ("backup.credentialId", backup?.credentialId)].compactMap { field, id in id.map { (field, $0) } }
    }

    /// Trimmed texts, each problem with its field (`printers[2].ipAddress`); nothing is guessed.
    public func validated() throws(TandemError) -> SiteNetwork {
        var v = FieldValidator()
        var out = SiteNetwork()
        func list<T>(_ items: [T], _ field: String, _ each: (inout FieldValidator, T, String) -> T?) -> [T] {
            if items.count > Self.maxEntries { v.fail(field, "at most \(Self.maxEntries) entries") }
            return items.enumerated().compactMap { index, item in each(&v, item, "\(field)[\(index)]") }
        }
        out.printers = list(printers, "printers") { v, p, f in
            let name = v.text(p.name, "\(f).name")
            let type = v.text(p.type, "\(f).type", max: 100, required: false), model = v.text(p.model, "\(f).model", required: false)
            let ip = v.text(p.ipAddress, "\(f).ipAddress", max: 45, required: false)
            if let ip, !ip.isEmpty, !IPAddressText.isValid(ip) { v.fail("\(f).ipAddress", "'\(ip)' is not an IPv4 or IPv6 address") }
            return name.map { Printer(type: type?.nilIfEmpty, name: $0, model: model?.nilIfEmpty, ipAddress: ip?.nilIfEmpty) }
        }
        out.networkDrives = list(networkDrives, "networkDrives") { v, d, f in
            let name = v.text(d.name, "\(f).name"), path = v.text(d.path, "\(f).path", max: 500)
            guard let name, let path else { return nil }
            return NetworkDrive(name: name, path: path)
        }
        if let email {
            let provider = v.text(email.provider, "email.provider")
            let url = Self.url(email.adminPortalURL, "email.adminPortalURL", &v)
            out.email = provider.map { Email(provider: $0, adminPortalURL: url, credentialId: email.credentialId) }
        }
        out.remoteAccess = list(remoteAccess, "remoteAccess") { v, r, f in
            let address = v.text(r.address, "\(f).address", max: 500)
            let guide = v.text(r.setupGuide, "\(f).setupGuide", max: 4000, required: false, multiline: true)
            return address.map { RemoteAccess(kind: r.kind, address: $0, setupGuide: guide?.nilIfEmpty) }
        }
        out.applications = list(applications, "applications") { v, a, f in
            let name = v.text(a.name, "\(f).name")
            let notes = v.text(a.notes, "\(f).notes", max: 2000, required: false, multiline: true)
            return name.map { Application(name: $0, notes: notes?.nilIfEmpty) }
        }
        if let directory = activeDirectory {
            let server = v.text(directory.serverName, "activeDirectory.serverName")
            let domain = v.text(directory.domain, "activeDirectory.domain", required: false)
            out.activeDirectory = server.map { ActiveDirectory(serverName: $0, domain: domain?.nilIfEmpty) }
        }
        if let backup {
            let server = v.text(backup.server, "backup.server")
            let address = v.text(backup.address, "backup.address", max: 500, required: false)
            out.backup = server.map { Backup(server: $0, address: address?.nilIfEmpty, credentialId: backup.credentialId) }
        }
        try v.check()
        return out
    }

    /// An admin portal's address: http or https only (a `javascript:` link is never stored).
    static func url(_ text: String?, _ field: String, _ v: inout FieldValidator) -> String? {
        guard let text = v.text(text, field, max: 500, required: false), !text.isEmpty else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            v.fail(field, "must be an http or https address")
            return nil
        }
        return text
    }
}

/// IP addresses as typed: IPv4 in dotted decimal, IPv6 in hex groups (one `::` at most).
public enum IPAddressText {
    public static func isValid(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && Int(part)! <= 255
                    && !(part.count > 1 && part.first == "0")
            }
    }

    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (index, half) in halves.enumerated() where !half.isEmpty {
            var parts = half.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            // An IPv4 tail (::ffff:192.0.2.1) counts as two groups.
            if index == halves.count - 1, let last = parts.last, last.contains(".") {
                guard isIPv4(last) else { return false }
                parts.removeLast()
                groups += 2
            }
            for part in parts {
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
