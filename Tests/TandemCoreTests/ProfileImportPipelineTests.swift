import Foundation
import Testing

@testable import TandemCore

/// `ProfileImporter.prepare(_:inFlight:)`: a batch matched while the previous one is still being
/// written gives what matching after that write gives.
@Suite struct ProfileImportPipelineTests {
    /// The profiles of one site in memory.
    actor MemoryStore: ProfileStore {
        var profiles: [UUID: ClientProfile] = [:]
        /// Profiles that cannot be deleted, with the reason.
        let blocked: [UUID: String]

        init(_ profiles: [UUID: ClientProfile], blocked: [UUID: String] = [:]) {
            self.profiles = profiles
            self.blocked = blocked
        }

        func find(ids: [UUID], emails: [String], names: [ProfileNameKey]) -> [StoredProfile] {
            let ids = Set(ids), emails = Set(emails), names = Set(names)
            return profiles.filter { id, profile in
                ids.contains(id) || profile.email.map(emails.contains) == true || names.contains(ProfileNameKey(profile.firstName, profile.lastName))
            }.map { StoredProfile(id: $0.key, profile: $0.value) }
        }

        func deletionBlockers(_ ids: [UUID]) -> [UUID: String] { blocked.filter { ids.contains($0.key) } }

        func portalLogins(_ ids: [UUID]) -> Set<UUID> { [] }

        func apply(_ changes: [ProfileChange]) -> [Int: String] {
            for change in changes {
                switch change {
                case .add(_, let id, let profile), .edit(_, let id, _, let profile): profiles[id] = profile
                case .delete(_, let id, _): profiles[id] = nil
                }
            }
            return [:]
        }
    }

    static let header = ["Id", "First Name", "Last Name", "Email", "Office Phone", "Office Phone Country", "Delete"]

    static func profile(_ first: String, _ last: String, _ email: String?) -> ClientProfile {
        ClientProfile(firstName: first, lastName: last, email: email, phones: [ProfilePhone(number: "5550100", countryCode: "US", kind: .office)])
    }

    @Test func preparingDuringTheWriteMatchesPreparingAfterIt() async throws {
        let pat = UUID(), quinn = UUID()
        let site = [pat: Self.profile("Pat", "Profile", "old@client.example"), quinn: Self.profile("Quinn", "Old", "q@client.example")]
        // Two rows per batch; every batch after the first depends on the one before it.
        let batches: [[[String]]] = [
            [["", "Ann", "Able", "", "5550100", "US", ""], [pat.uuidString, "Pat", "Profile", "new@client.example", "5550100", "US", ""]],
            // Ann again (no id, no email): the same profile imported before. Pat's old email: Pat has moved on, a new profile.
            [["", "Ann", "Able", "", "5550100", "US", ""], ["", "Old", "Mail", "old@client.example", "5550100", "US", ""]],
            [[quinn.uuidString, "", "", "", "", "", "Y"], ["", "Fill", "Er", "", "5550100", "US", ""]],
            // Quinn's email after Quinn was deleted: a new profile.
            [["", "Quinn", "New", "q@client.example", "5550100", "US", ""]],
        ]
        var number = 1
        let numbered = batches.map { batch in
            batch.map { cells in
                number += 1; return (number: number, cells: cells)
            }
        }

        // One batch after another.
        let sequentialStore = MemoryStore(site)
        var sequential = ProfileImporter(store: sequentialStore, rights: .all, dryRun: false)
        try sequential.begin(header: Self.header)
        for batch in numbered { try await sequential.process(batch) }

        // Each batch prepared before the previous one is written.
        let pipelinedStore = MemoryStore(site)
        var pipelined = ProfileImporter(store: pipelinedStore, rights: .all, dryRun: false)
        try pipelined.begin(header: Self.header)
        var writing: ProfileImporter.PreparedBatch?
        for batch in numbered {
            let prepared = try await pipelined.prepare(batch, inFlight: writing?.changes ?? [])
            if let writing { pipelined.finish(writing, refused: await pipelinedStore.apply(writing.changes)) }
            writing = prepared
        }
        if let writing { pipelined.finish(writing, refused: await pipelinedStore.apply(writing.changes)) }

        #expect(
            sequential.report.added == 4 && sequential.report.edited == 1 && sequential.report.unchanged == 1 && sequential.report.deleted == 1,
            "\(sequential.report)")
        #expect(sequential.report.failed == 0, "\(sequential.report.failures)")
        #expect(pipelined.report == sequential.report)
        let emails = { (store: MemoryStore) async in await store.profiles.values.map { "\($0.firstName) \($0.email ?? "-")" }.sorted() }
        #expect(await emails(pipelinedStore) == emails(sequentialStore))
        #expect(await emails(sequentialStore) == ["Ann -", "Fill -", "Old old@client.example", "Pat new@client.example", "Quinn q@client.example"])
    }

    /// Rows in one batch are matched against the site as the rows before them leave it: the same
    /// report and the same site as importing the file one row per batch.
    @Test func aBatchMatchesAsOneRowAtATime() async throws {
        let pat = UUID(), tess = UUID(), zed = UUID()
        let site = [
            pat: Self.profile("Pat", "Profile", "old@client.example"), tess: Self.profile("Tess", "Ticket", "tess@client.example"),
            zed: Self.profile("Zed", "Gone", "zed@client.example"),
        ]
        let rows: [[String]] = [
            // Pat moves to a new email; a later row with Pat's old email is somebody new.
            [pat.uuidString, "Pat", "Profile", "new@client.example", "5550100", "US", ""],
            ["", "Olive", "Old", "old@client.example", "5550100", "US", ""],
            // The same profile without id or email twice: the second row is the first one imported.
            ["", "Ann", "Able", "", "5550100", "US", ""],
            ["", "Ann", "Able", "", "5550100", "US", ""],
            // Tess cannot be deleted (tickets); a later row with her email edits her.
            [tess.uuidString, "", "", "", "", "", "Y"],
            ["", "Tess", "Renamed", "tess@client.example", "5550100", "US", ""],
            // Zed is deleted by email; a later row with that email names the same email twice.
            ["", "", "", "zed@client.example", "", "", "Y"],
            ["", "Zed", "Again", "zed@client.example", "5550100", "US", ""],
        ]
        let numbered = rows.enumerated().map { (number: $0.offset + 2, cells: $0.element) }
        let blocked = [tess: "the profile is the contact of tickets; it cannot be deleted"]

        func run(batchSize: Int) async throws -> (ProfileImportReport, [String]) {
            let store = MemoryStore(site, blocked: blocked)
            var importer = ProfileImporter(store: store, rights: .all, dryRun: false)
            try importer.begin(header: Self.header)
            for start in stride(from: 0, to: numbered.count, by: batchSize) {
                try await importer.process(Array(numbered[start..<min(start + batchSize, numbered.count)]))
            }
            let profiles = await store.profiles.values.map { "\($0.firstName) \($0.lastName) \($0.email ?? "-")" }.sorted()
            return (importer.report, profiles)
        }
        let (oneByOne, oneByOneSite) = try await run(batchSize: 1)
        let (together, togetherSite) = try await run(batchSize: numbered.count)
        #expect(together == oneByOne)
        #expect(togetherSite == oneByOneSite)
        #expect(oneByOne.added == 2 && oneByOne.edited == 2 && oneByOne.deleted == 1 && oneByOne.unchanged == 1 && oneByOne.failed == 2, "\(oneByOne)")
        #expect(oneByOne.failures.map(\.row) == [6, 9], "\(oneByOne.failures)")
        #expect(togetherSite == ["Ann Able -", "Olive Old old@client.example", "Pat Profile new@client.example", "Tess Renamed tess@client.example"])
    }

    /// The whole file run again, as a takeover runs it, knowing what an earlier run applied.
    static func rerun(_ rows: [(number: Int, cells: [String])], on store: MemoryStore, _ appliedEarlier: ProfileImporter.AppliedEarlier) async throws
        -> ProfileImportReport
    {
        var importer = ProfileImporter(store: store, rights: .all, dryRun: false)
        importer.appliedEarlier = appliedEarlier
        try importer.begin(header: Self.header)
        try await importer.process(rows)
        return importer.report
    }

    /// A run again from the first row after the first run died (an import job taken over): the delete rows the first
    /// run applied count as deleted, by id or by email, as an uninterrupted run counts them; an unknown id still fails.
    @Test func deletesAnEarlierRunAppliedCountAsDeleted() async throws {
        let yan = UUID(), zed = UUID()
        let store = MemoryStore([yan: Self.profile("Yan", "Gone", "yan@client.example"), zed: Self.profile("Zed", "Gone", "zed@client.example")])
        let rows: [(number: Int, cells: [String])] = [
            (2, [zed.uuidString, "", "", "", "", "", "Y"]), (3, ["", "", "", "YAN@client.example", "", "", "Y"]),
            (4, [UUID().uuidString, "", "", "", "", "", "Y"]),
        ]
        var first = ProfileImporter(store: store, rights: .all, dryRun: false)
        try first.begin(header: Self.header)
        try await first.process(Array(rows.prefix(2)))
        let left = await store.profiles
        #expect(first.report.deleted == 2 && left.isEmpty)

        let takeover = try await Self.rerun(rows, on: store, .init(deleted: [yan, zed], deletedEmails: ["yan@client.example"]))
        #expect(takeover.deleted == 2 && takeover.failed == 1 && takeover.failures.map(\.row) == [4], "\(takeover)")
        #expect(try await Self.rerun(rows, on: store, .init()).failed == 3, "without them, every row names a profile that is gone")
    }

    /// The same for the rows the first run added or edited: counted as added or edited, not as unchanged, each profile
    /// once (a second identical row without an id or email is unchanged, as in an uninterrupted run).
    @Test func addsAndEditsAnEarlierRunAppliedCountAsMade() async throws {
        let ben = UUID(), old = UUID()
        let store = MemoryStore([ben: Self.profile("Ben", "Baker", "ben@client.example"), old: Self.profile("Old", "Timer", "old@client.example")])
        let rows: [(number: Int, cells: [String])] = [
            (2, ["", "Ann", "Able", "", "5550100", "US", ""]), (3, [ben.uuidString, "Ben", "Baker", "ben@client.example", "5550111", "US", ""]),
            (4, ["", "Cid", "Cole", "cid@client.example", "5550100", "US", ""]), (5, ["", "Ann", "Able", "", "5550100", "US", ""]),
            (6, [old.uuidString, "Old", "Timer", "old@client.example", "5550100", "US", ""]),
        ]
        var first = ProfileImporter(store: store, rights: .all, dryRun: false)
        try first.begin(header: Self.header)
        try await first.process(rows)
        #expect(first.report.added == 2 && first.report.edited == 1 && first.report.unchanged == 2, "\(first.report)")

        let added = Set(await store.profiles.keys).subtracting([ben, old])
        #expect(try await Self.rerun(rows, on: store, .init(added: added, edited: [ben])) == first.report)
        let without = try await Self.rerun(rows, on: store, .init())
        #expect(without.added == 0 && without.edited == 0 && without.unchanged == 5, "without them, every row is unchanged: \(without)")
    }
}
