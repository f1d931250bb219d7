import Foundation
import Testing
@testable import TandemCore

/// `ProfileImporter.prepare(_:inFlight:)`: a batch matched while the previous one is still being
/// written gives what matching after that write gives.
@Suite struct ProfileImportPipelineTests {
    /// The profiles of one site in memory.
    actor MemoryStore: ProfileStore {
        var profiles: [UUID: ClientProfile] = [:]

        init(_ profiles: [UUID: ClientProfile]) { self.profiles = profiles }

        func find(ids: [UUID], emails: [String], names: [ProfileNameKey]) -> [StoredProfile] {
            let ids = Set(ids), emails = Set(emails), names = Set(names)
            return profiles.filter { id, profile in
                ids.contains(id) || profile.email.map(emails.contains) == true || names.contains(ProfileNameKey(profile.firstName, profile.lastName))
            }.map { StoredProfile(id: $0.key, profile: $0.value) }
        }

        func deletionBlockers(_ ids: [UUID]) -> [UUID: String] { [:] }

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
        let numbered = batches.map { batch in batch.map { cells in number += 1; return (number: number, cells: cells) } }

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

        #expect(sequential.report.added == 4 && sequential.report.edited == 1 && sequential.report.unchanged == 1 && sequential.report.deleted == 1,
                "\(sequential.report)")
        #expect(sequential.report.failed == 0, "\(sequential.report.failures)")
        #expect(pipelined.report == sequential.report)
        let emails = { (store: MemoryStore) async in await store.profiles.values.map { "\($0.firstName) \($0.email ?? "-")" }.sorted() }
        #expect(await emails(pipelinedStore) == emails(sequentialStore))
        #expect(await emails(sequentialStore) == ["Ann -", "Fill -", "Old old@client.example", "Pat new@client.example", "Quinn q@client.example"])
    }
}
