import Foundation

/// A site's unlicensed software approvals (ConnectWise: Network Info > Software > Unlicensed
/// Software): per software name, install without asking, call an approver, or never install.
public enum SoftwareApproval: String, Codable, Sendable, CaseIterable {
    case install, callApprover, never
}

public struct UnlicensedSoftwareList: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var approval: SoftwareApproval

        public init(_ name: String, _ approval: SoftwareApproval) {
            self.name = name
            self.approval = approval
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) {
        self.entries = entries
    }

    public static let maxEntries = 1000

    /// The entry for `software`, matched without regard to case, accents or runs of spaces.
    public func approval(of software: String) -> SoftwareApproval? {
        let key = Self.key(software)
        return entries.first { Self.key($0.name) == key }?.approval
    }

    public func validate() throws(TandemError) {
        var validator = FieldValidator()
        if entries.count > Self.maxEntries { validator.fail("entries", "at most \(Self.maxEntries) entries") }
        var seen: Set<String> = []
        for (index, entry) in entries.enumerated() {
            guard validator.text(entry.name, "entries[\(index)].name") != nil else { continue }
            if !seen.insert(Self.key(entry.name)).inserted { validator.fail("entries[\(index)].name", "\(entry.name) is listed twice") }
        }
        try validator.check()
    }

    static func key(_ name: String) -> String {
        name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "en_US_POSIX"))
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
