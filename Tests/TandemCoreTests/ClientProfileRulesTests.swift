import Foundation
import Spreadsheets
import Testing

@testable import TandemCore

/// SPEC §7's rules for one profile and one row, and who may move profiles in bulk.
@Suite struct ClientProfileRulesTests {
    func draft(
        _ first: String? = "Ann", _ last: String? = "Able", phones: [ProfileDraft.Phone] = [.init(kind: .office, number: "5550100", countryCode: "us")],
        email: String? = nil, gateway: String? = nil, thin: String? = nil, notes: String? = nil
    ) -> ProfileDraft {
        ProfileDraft(firstName: first, lastName: last, email: email, phones: phones, smsGateway: gateway, thinClient: thin, notes: notes)
    }

    func problems(_ draft: ProfileDraft) -> [String] {
        switch ProfileRules.validate(draft) {
        case .success: []
        case .failure(let errors): errors.problems.map { "\($0.column.header): \($0.message)" }
        }
    }

    @Test func aValidProfileIsNormalized() throws {
        let profile = try ProfileRules.validate(
            draft(
                " Ann  ", "Able ",
                phones: [.init(kind: .mobile, number: "5550199", countryCode: "gb"), .init(kind: .office, number: "5550100", countryCode: "us")],
                email: " Ann@Client.Example ", gateway: "TXT.att.com", thin: " Y ")
        ).get()
        #expect(profile.firstName == "Ann" && profile.lastName == "Able")
        #expect(profile.email == "ann@client.example")
        #expect(profile.phones.map(\.kind) == [.office, .mobile], "phones are kept in kind order")
        #expect(profile.phones.map(\.countryCode) == ["US", "GB"])
        #expect(profile.smsGateway == "@txt.att.com")
        #expect(profile.thinClient)
    }

    @Test(arguments: [
        (ProfileDraft(firstName: "A", lastName: "B"), "Office Phone: a profile needs at least one phone number"),
        (ProfileDraft(firstName: "", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")]), "First Name: is required"),
        (ProfileDraft(firstName: "n/a", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")]), "First Name: 'N/A' is not accepted"),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .home, number: "", countryCode: "US")]),
            "Home Phone Country: a country code without a phone number"
        ),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .home, number: "555", countryCode: "")]),
            "Home Phone Country: a phone number needs its ISO 3166"
        ),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .office, number: "555.0100", countryCode: "US")]),
            "Office Phone: '555.0100' contains '.'"
        ),
        (ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .office, number: "٥٥٥", countryCode: "US")]), "Office Phone: '٥٥٥' contains '٥'"),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "ZZ")]),
            "Office Phone Country: 'ZZ' is not an ISO 3166"
        ),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")], thinClient: "maybe"),
            "Thin Client: 'maybe' must be Y or N"
        ),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")], smsGateway: "@@x"),
            "SMS Gateway: '@@x' is not an SMS email gateway"
        ),
        (
            ProfileDraft(firstName: "A\u{7}", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")]),
            "First Name: must be one line without control characters"
        ),
        (
            ProfileDraft(firstName: "A\tB", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")]),
            "First Name: must be one line without control characters"
        ),
        (
            ProfileDraft(firstName: "A", lastName: "B\nC", phones: [.init(kind: .office, number: "1", countryCode: "US")]),
            "Last Name: must be one line without control characters"
        ),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")], notes: "one\u{1B}"),
            "Notes: must not contain control characters"
        ),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")], thinClient: "y"),
            "Thin Client: 'y' must be Y or N"
        ),
        (
            ProfileDraft(firstName: "A", lastName: "B", phones: [.init(kind: .office, number: "1", countryCode: "US")], thinClient: "yes"),
            "Thin Client: 'yes' must be Y or N"
        ),
    ])
    func eachRuleNamesItsColumn(draft: ProfileDraft, expected: String) {
        let found = problems(draft)
        #expect(found.contains { $0.hasPrefix(expected) }, "\(found)")
    }

    @Test func trimKeepsInnerSpaceAndSkipsNothingElse() {
        #expect(ProfileRules.trim("  a b \u{A0}") == "a b")
        #expect(ProfileRules.trim("ab") == "ab")
        #expect(ProfileRules.trim("   ") == "")
        #expect(ProfileRules.trim("\tline\n") == "line")
    }

    @Test func headerProblemsRefuseTheFile() {
        func refusal(_ header: [String]) -> String? {
            do { _ = try ProfileSheetLayout(header: header); return nil } catch { return error.message }
        }
        #expect(refusal(["", " "])?.contains("empty") == true)
        #expect(refusal(["First Name", "Office Phone", "Office Phone Country"])?.contains("'Last Name' is missing") == true)
        #expect(
            refusal(["First Name", "Last Name", "email", "E-mail", "Office Phone", "Office Phone Country"])?.contains("appears twice (columns C and D)") == true
        )
        #expect(refusal(["First Name", "Last Name", "Mobile Phone"])?.contains("needs the column 'Mobile Phone Country'") == true)
        #expect(refusal(["first_name", "LAST NAME", "Office Phone", "office phone country code"]) == nil, "headers match without case or separators")
        let layout = try? ProfileSheetLayout(header: ["First Name", "Last Name", "Office Phone", "Office Phone Country", "Department"])
        #expect(layout?.warnings == ["column E 'Department' is not a profile column; it was ignored"])
        #expect(layout?.cell(.phone(.office), row: 7) == "C7")
    }

    @Test func exportRowsAreNeutralizedAndReadBackExactly() throws {
        let profile = ClientProfile(
            firstName: "=SUM(A1)", lastName: "'=x", email: nil, phones: [ProfilePhone(number: "1", countryCode: "US", kind: .office)],
            mobileProvider: "-Dash", smsGateway: "@txt.att.com", notes: "+1 call")
        let row = CellText.exportRow(id: "ID", profile)
        #expect(row[1] == "'=SUM(A1)" && row[2] == "''=x" && row.contains("'@txt.att.com") && row.contains("'-Dash") && row.contains("'+1 call"))
        let layout = try ProfileSheetLayout(header: ProfileColumn.all.map(\.header))
        let parsed = try ProfileRow(number: 2, cells: row, layout: layout)
        #expect(parsed.restates(profile))
        #expect(try ProfileRules.validate(parsed.draft(over: nil)).get() == profile)
    }

    /// SPEC §7: only `Y` deletes; `N` or nothing keeps; anything else (`yes`, `y`, `1`…) fails the row and deletes nothing.
    @Test func deleteColumnTakesExactlyYOrN() throws {
        let layout = try ProfileSheetLayout(header: ["Id", "First Name", "Last Name", "Office Phone", "Office Phone Country", "Delete"])
        func row(_ delete: String) throws(ProfileRowError) -> ProfileRow {
            try ProfileRow(number: 4, cells: ["", "Ann", "Able", "5550100", "US", delete], layout: layout)
        }
        for delete in ["Y", " Y "] { #expect(try row(delete).request == .delete, "\(delete)") }
        for keep in ["", "N", " N ", "  "] { #expect(try row(keep).request == .save, "\(keep)") }
        for other in ["yes", "YES", "Yes", "y", "n", "no", "NO", "1", "0", "true", "x", "N/A", "YY"] {
            #expect(
                throws: ProfileRowError(
                    row: 4, column: "Delete", cell: "F4",
                    reason: "'\(other)' in the delete column: only a capital Y deletes the profile; N or nothing keeps it")
            ) {
                try row(other)
            }
        }
    }

    @Test func columnLettersCountLikeASpreadsheet() {
        #expect([0, 25, 26, 27, 701, 702].map(columnLetters) == ["A", "Z", "AA", "AB", "ZZ", "AAA"])
    }

    // MARK: Policy

    /// Every principal kind and level against its own and another organization: export needs contact view,
    /// each import operation its own level, and nothing reaches outside the principal's organizations.
    @Test func bulkProfileRightsFollowTheLevelAndTheOrganizations() {
        let mine = UUID(), other = UUID()
        for system in SystemSecurityLevel.allCases {
            for restricted in [false, true] where !system.coManaged {
                let principal = Principal(
                    id: UUID(), kind: .resource, displayName: "R", securityLevelId: UUID(), permissions: system.permissions,
                    clientRestrictions: restricted ? [mine] : nil)
                let contacts = system.permissions[.contacts]
                for organization in [mine, other] {
                    let reachable = !restricted || organization == mine
                    let transfer = AccessPolicy.profileTransfer(for: principal, organizationId: organization)
                    #expect(transfer.export == (reachable && contacts >= .view), "\(system) restricted \(restricted)")
                    // A login email is a credential: only administrators move it (SPEC §1).
                    #expect(
                        transfer.importRights
                            == ProfileImportRights(
                                add: reachable && contacts >= .add, edit: reachable && contacts >= .edit,
                                delete: reachable && contacts >= .full,
                                changeLoginEmails: reachable && contacts >= .edit && system == .administrator),
                        "\(system) restricted \(restricted)")
                }
            }
            guard system.coManaged else { continue }
            for enabled in [true, false] {
                let user = Principal(
                    id: UUID(), kind: .coManagingUser, displayName: "C", securityLevelId: UUID(), permissions: system.permissions,
                    organizationId: mine, contactId: UUID(), associatedOrganizationIds: [mine], coManagementEnabled: enabled,
                    coManagedOrganizationIds: [mine])
                let contacts = system.permissions[.contacts]
                let own = AccessPolicy.profileTransfer(for: user, organizationId: mine)
                #expect(own.export == (enabled && contacts >= .view))
                #expect(own.canImport == (enabled && contacts >= .add))
                #expect(
                    AccessPolicy.profileTransfer(for: user, organizationId: other)
                        == ProfileTransfer(export: false, importRights: .init(add: false, edit: false, delete: false)))
            }
        }
        let contact = Principal(
            id: UUID(), kind: .contact, displayName: "P", securityLevelId: nil, permissions: .nothing, organizationId: mine, contactId: UUID())
        #expect(!AccessPolicy.profileTransfer(for: contact, organizationId: mine).export)
        #expect(!AccessPolicy.profileTransfer(for: contact, organizationId: mine).canImport)
    }
}
