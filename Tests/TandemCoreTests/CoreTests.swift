import Foundation
import TandemCore
import Testing

@Suite struct ScopeTests {
    let a = UUID(), b = UUID()

    @Test func allOfFoldsAllAndShortCircuitsNone() {
        let column = Scope.column(.organization, in: [a])
        #expect(Scope.allOf([]) == .all)
        #expect(Scope.allOf([.all, .all]) == .all)
        #expect(Scope.allOf([.all, column]) == column, "a single remaining part is not wrapped")
        #expect(Scope.allOf([column, .none, .assignedTo(b)]) == .none)
        #expect(Scope.allOf([column, .coManagedVisible]) == .and([column, .coManagedVisible]))
    }

    @Test func anyOfFoldsNoneAndShortCircuitsAll() {
        let column = Scope.column(.queue, in: [a])
        #expect(Scope.anyOf([]) == .none)
        #expect(Scope.anyOf([.none, .none]) == .none)
        #expect(Scope.anyOf([.none, column]) == column)
        #expect(Scope.anyOf([column, .all]) == .all)
        #expect(Scope.anyOf([column, .assignedTo(b)]) == .or([column, .assignedTo(b)]))
    }

    @Test func emptySetsAndMissingIdsReachNothing() {
        #expect(Scope.isIn(.organization, []) == .none)
        #expect(Scope.equals(.contact, nil) == .none)
        #expect(Scope.equals(.contact, a) == .column(.contact, in: [a]))
    }

    @Test func evaluate() {
        let facts = ScopeFacts(values: [.organization: a, .queue: nil], assigneeIds: [b], coManagedVisible: true, publishTo: .all)
        #expect(Scope.column(.organization, in: [a]).evaluate(facts))
        #expect(!Scope.column(.queue, in: [a]).evaluate(facts), "a null column matches no set")
        #expect(!Scope.column(.team, in: [a]).evaluate(facts), "an unknown column matches no set")
        #expect(Scope.assignedTo(b).evaluate(facts))
        #expect(Scope.coManagedVisible.evaluate(facts))
        #expect(Scope.publishTo(in: [.all]).evaluate(facts))
        #expect(!Scope.publishTo(in: [.all]).evaluate(ScopeFacts(values: [:])), "an object without publish-to is not an item")
        #expect(Scope.or([.none, .assignedTo(b)]).evaluate(facts))
        #expect(!Scope.and([.all, .assignedTo(a)]).evaluate(facts))
    }

    /// Folding never changes what a scope lets through.
    @Test func foldingKeepsTheMeaning() {
        var g = SeededGenerator(seed: 42)
        let ids = [a, b]
        func leaf() -> Scope {
            switch Int.random(in: 0..<5, using: &g) {
            case 0: .all
            case 1: .none
            case 2: .column(.organization, in: Set(ids.filter { _ in Bool.random(using: &g) }))
            case 3: .assignedTo(ids.randomElement(using: &g)!)
            default: .coManagedVisible
            }
        }
        for _ in 0..<2000 {
            let parts = (0..<Int.random(in: 0..<4, using: &g)).map { _ in leaf() }
            let facts = ScopeFacts(
                values: [.organization: ids.randomElement(using: &g)!], assigneeIds: Bool.random(using: &g) ? [a] : [b],
                coManagedVisible: Bool.random(using: &g))
            #expect(Scope.allOf(parts).evaluate(facts) == parts.allSatisfy { $0.evaluate(facts) })
            #expect(Scope.anyOf(parts).evaluate(facts) == parts.contains { $0.evaluate(facts) })
        }
    }
}

@Suite struct TicketStatusTests {
    /// The state machine, written out as the product describes it.
    static let legal: [TicketStatus: Set<TicketStatus>] = [
        .new: [.inProgress, .waitingCustomer, .waitingApproval, .escalated, .resolved],
        .inProgress: [.waitingCustomer, .waitingApproval, .escalated, .resolved],
        .waitingCustomer: [.inProgress, .escalated, .resolved, .closed],
        .waitingApproval: [.inProgress, .escalated, .resolved],
        .escalated: [.inProgress, .waitingCustomer, .waitingApproval, .resolved],
        .resolved: [.inProgress, .closed],
        .closed: [.inProgress],
    ]

    @Test func transitions() throws {
        for from in TicketStatus.allCases {
            #expect(from.allowedNext == Self.legal[from], "\(from)")
            for to in TicketStatus.allCases {
                if from == to || Self.legal[from]!.contains(to) {
                    #expect(try from.transition(to: to) == to)
                } else {
                    #expect(throws: TandemError.self, "\(from) → \(to)") { try from.transition(to: to) }
                }
            }
        }
    }

    @Test func refusalNamesTheAllowedStatuses() {
        #expect(throws: TandemError.invalid("status", "a ticket cannot go from closed to waitingApproval; from closed it can go to inProgress")) {
            try TicketStatus.closed.transition(to: .waitingApproval)
        }
        #expect(TicketStatus.resolved.refusal(to: .new) == "a ticket cannot go from resolved to new; from resolved it can go to closed, inProgress")
        #expect(!TicketStatus.closed.isOpen && !TicketStatus.resolved.isOpen && TicketStatus.escalated.isOpen)
    }

    @Test func everyStatusCanBeReachedAndLeft() {
        var reached: Set<TicketStatus> = [.new]
        var frontier: [TicketStatus] = [.new]
        while let status = frontier.popLast() {
            for next in status.allowedNext where reached.insert(next).inserted { frontier.append(next) }
        }
        #expect(reached == Set(TicketStatus.allCases))
        #expect(TicketStatus.allCases.allSatisfy { !$0.allowedNext.isEmpty && !$0.allowedNext.contains($0) })
    }
}

@Suite struct PermissionsTests {
    @Test func coManagedLevelsHoldNoAdministrativePermission() throws {
        let permissions = Permissions(ticketScope: .all, areas: [.tickets: .edit], admin: [.manageUsers, .configureSecurityLevels])
        #expect(
            throws: TandemError.validation([
                FieldError(
                    "permissions.admin",
                    "a co-managed security level cannot hold administrative permissions (configureSecurityLevels, manageUsers)")
            ])
        ) {
            try permissions.validate(coManaged: true)
        }
        try permissions.validate(coManaged: false)
        try Permissions(ticketScope: .all, areas: [.tickets: .edit]).validate(coManaged: true)
    }

    @Test func systemLevels() throws {
        for level in SystemSecurityLevel.allCases {
            try level.permissions.validate(coManaged: level.coManaged)
            #expect(level.coManaged == (level == .coManagedHelpDesk || level == .coManagedBasic))
            #expect(!level.name.isEmpty)
        }
        #expect(SystemSecurityLevel.administrator.permissions.admin == Set(AdminPermission.allCases))
        #expect(SystemSecurityLevel.technician.permissions.admin.isEmpty)
        #expect(!SystemSecurityLevel.coManagedBasic.permissions.savedFilters, "system co-managed levels do not grant saved filters")
        #expect(SystemSecurityLevel.helpDesk.permissions.ticketScope == .myQueues)
    }

    @Test func accessLevelsAreOrdered() {
        #expect(AccessLevel.allCases.sorted() == [.none, .view, .add, .edit, .full])
        let permissions = Permissions(ticketScope: .all, areas: [.notes: .add])
        #expect(permissions.allows(.view, on: .notes) && permissions.allows(.add, on: .notes) && !permissions.allows(.edit, on: .notes))
        #expect(permissions[.vault] == .none)
    }

    @Test func codableRoundTripAndDefaults() throws {
        let permissions = SystemSecurityLevel.dispatcher.permissions
        let data = try JSONEncoder().encode(permissions)
        #expect(try JSONDecoder().decode(Permissions.self, from: data) == permissions)
        let text = String(decoding: data, as: UTF8.self)
        for area in Area.allCases { #expect(text.contains("\"\(area.rawValue)\""), "every area is written out") }
        let minimal = try JSONDecoder().decode(Permissions.self, from: Data(#"{"ticketScope":"myQueues"}"#.utf8))
        #expect(minimal == Permissions(ticketScope: .myQueues, areas: [:]))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Permissions.self, from: Data(#"{"ticketScope":"everything"}"#.utf8)) }
    }
}

@Suite struct FieldValidatorTests {
    @Test func text() throws {
        var v = FieldValidator()
        #expect(v.text("  Northwind \n", "name") == "Northwind")
        #expect(v.text(nil, "missing") == nil)
        #expect(v.text("   ", "blank") == nil)
        #expect(v.text(String(repeating: "x", count: 11), "long", max: 10) == nil)
        #expect(v.text("bell\u{07}", "control") == nil)
        #expect(v.text("line one\nline two\ttab", "multiline", multiline: true) == "line one\nline two\ttab")
        #expect(v.text("line one\nline two", "oneLine") == nil)
        #expect(v.text("escape\u{1B}", "multilineControl", multiline: true) == nil)
        #expect(v.text(nil, "optional", required: false) == nil)
        #expect(v.text("  ", "optionalBlank", required: false) == "")
        #expect(
            v.errors == [
                FieldError("missing", "is required"),
                FieldError("blank", "must not be empty"),
                FieldError("long", "must be at most 10 characters (got 11)"),
                FieldError("control", "must be one line without control characters"),
                FieldError("oneLine", "must be one line without control characters"),
                FieldError("multilineControl", "must not contain control characters"),
            ])
        #expect(throws: TandemError.validation(v.errors)) { try v.check() }
    }

    /// Unicode's control characters (C0, DEL, C1) are refused on one line; multi-line text takes LF, CR and tab only.
    /// Separators that are not controls (U+2028, NBSP) and format characters are text.
    @Test func controlCharacters() {
        let c0 = (0x00...0x1F).map { Unicode.Scalar($0)! }, c1 = (0x7F...0x9F).map { Unicode.Scalar($0)! }
        for scalar in c0 + c1 {
            let text = "a\(Character(scalar))b"
            #expect(ControlCharacters.refused(in: text, multiline: false), "\(scalar.value)")
            #expect(ControlCharacters.refused(in: text, multiline: true) == !["\n", "\r", "\t"].contains(scalar), "\(scalar.value)")
        }
        for text in ["plain", "é 漢 😀", "a\u{A0}b", "a\u{2028}b", "a\u{200B}b", "\u{C2}\u{A9} 2026", ""] {
            #expect(!ControlCharacters.refused(in: text, multiline: false), "\(text.debugDescription)")
        }
    }

    @Test func choiceListsTheAllowedValues() {
        var v = FieldValidator()
        #expect(v.choice("high", "priority", as: TicketPriority.self) == .high)
        #expect(v.choice("urgent", "priority", as: TicketPriority.self) == nil)
        #expect(v.errors == [FieldError("priority", "'urgent' is not one of low, medium, high, critical")])
    }

    @Test func emailRangeAndId() {
        var v = FieldValidator()
        #expect(v.email("Alice@Northwind.Example", "email") == "alice@northwind.example")
        for bad in ["alice", "alice@", "@northwind.example", "alice@northwind", "a b@c.de", "alice@.example", "a@b@c.de"] {
            #expect(v.email(bad, "email") == nil, "\(bad)")
        }
        #expect(v.email(nil, "email") == nil)
        #expect(v.range(30, "minutes", 1...1440) == 30)
        #expect(v.range(0, "minutes", 1...1440) == nil)
        #expect(v.range(Optional<Int>.none, "minutes", 1...1440, required: false) == nil)
        let id = UUID()
        #expect(v.id(id.uuidString, "queueId") == id)
        #expect(v.id("queue-1", "queueId") == nil)
        #expect(v.errors.map(\.field) == Array(repeating: "email", count: 7) + ["minutes", "queueId"])
        #expect(v.errors.last?.message == "'queue-1' is not a valid id")
    }

    @Test func noErrorsPasses() throws {
        var v = FieldValidator()
        _ = v.text("ok", "name")
        try v.check()
    }
}

@Suite struct UUIDv7Tests {
    @Test func versionAndVariant() {
        let id = UUID.v7()
        let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 7)
        #expect(bytes[8] >> 6 == 0b10)
        #expect(id.uuidString.dropFirst(14).first == "7")
    }

    @Test func orderedByCreationTime() {
        // Half a millisecond in, so floating point never rounds a time down into the previous millisecond.
        let start = Date(timeIntervalSince1970: 1_700_000_000.0005)
        let ids = (0..<500).map { UUID.v7(now: Date(timeIntervalSince1970: (1_700_000_000_000 + Double($0) + 0.5) / 1000)) }
        let sorted = ids.map(\.uuidString) == ids.map(\.uuidString).sorted()
        #expect(sorted, "string order is time order")
        let timestamp = withUnsafeBytes(of: ids[0].uuid) { bytes in bytes.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        #expect(timestamp == 1_700_000_000_000)
        #expect(Set(ids).count == ids.count)
        #expect(Set((0..<1000).map { _ in UUID.v7(now: start) }).count == 1000, "ids of the same millisecond still differ")
    }
}

extension UUIDv7Tests {
    @Test func sameMillisecondKeepsCreationOrder() {
        let ids = (0..<1000).map { _ in UUID.v7() }
        let sorted = ids.map(\.uuidString) == ids.map(\.uuidString).sorted()
        #expect(sorted, "ids made one after another sort in that order, even within a millisecond")
        #expect(Set(ids).count == ids.count)
    }
}

@Suite struct CountriesTests {
    @Test func alpha2() {
        #expect(Countries.isValid("US") && Countries.isValid("GB") && Countries.isValid("DE"))
        #expect(!Countries.isValid("UK") && !Countries.isValid("us") && !Countries.isValid("USA") && !Countries.isValid(""))
        #expect(Countries.alpha2.count == 249)
    }
}

@Suite struct WhitespaceTests {
    /// The hand-rolled trim removes what Foundation's `.whitespacesAndNewlines` trim removes.
    @Test func trimsAsFoundationTrims() {
        let spaces = [
            " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2003}", "\u{2028}", "\u{2029}", "\u{3000}", "\u{202F}", "\u{180E}", "\u{200B}",
        ]
        var texts = ["", "plain", "inner  space", "é漢😀", "\u{200B}zero-width\u{200B}", "\u{FEFF}bom"]
        for space in spaces { texts += [space, space + "x" + space, "a" + space + "b", space + space + "é" + space] }
        for text in texts {
            #expect(Whitespace.trim(text) == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.unicodeScalars.map { $0.value })")
        }
    }
}
