import Foundation
import TandemCore
import Testing

/// The credential vault's envelope encryption (SPEC §9) and who may reveal.
@Suite struct VaultEncryptionTests {
    let vault = Vault(masterKey: .generate())
    let binding = VaultBinding("credential.secret", rowId: UUID())

    @Test func sealsAndOpens() throws {
        let sealed = try vault.seal("correct horse battery staple", for: binding)
        #expect(sealed.keyId == vault.masterKey.id)
        #expect(!sealed.stored.contains("correct horse"))
        #expect(try vault.open(stored: sealed.stored, for: binding) == "correct horse battery staple")
        #expect(try vault.open(stored: vault.seal(stored: "", for: binding), for: binding) == "")
    }

    @Test func freshKeysAndNoncesEveryTime() throws {
        let one = try vault.seal("same", for: binding), two = try vault.seal("same", for: binding)
        #expect(one.wrappedKey != two.wrappedKey)
        #expect(one.sealed != two.sealed)
        // The first 12 bytes of each box are its nonce.
        #expect(one.sealed.prefix(12) != two.sealed.prefix(12))
        #expect(one.wrappedKey.prefix(12) != two.wrappedKey.prefix(12))
    }

    @Test func tamperingIsRefused() throws {
        let sealed = try vault.seal("s3cret-value", for: binding)
        for index in [0, 12, sealed.sealed.count - 1] {
            var changed = sealed
            changed.sealed[changed.sealed.startIndex + index] ^= 0x01
            #expect(throws: VaultError.tampered) { try vault.open(changed, for: binding) }
        }
        for index in [0, 20, sealed.wrappedKey.count - 1] {
            var changed = sealed
            changed.wrappedKey[changed.wrappedKey.startIndex + index] ^= 0x80
            #expect(throws: VaultError.tampered) { try vault.open(changed, for: binding) }
        }
        var truncated = sealed
        truncated.sealed = sealed.sealed.prefix(10)
        #expect(throws: VaultError.tampered) { try vault.open(truncated, for: binding) }
        // Another row's or another purpose's ciphertext does not open here.
        #expect(throws: VaultError.tampered) { try vault.open(sealed, for: VaultBinding("credential.secret", rowId: UUID())) }
        #expect(throws: VaultError.tampered) { try vault.open(sealed, for: VaultBinding("totp", rowId: binding.rowId)) }
        // A sealed secret of one row with the data key of another does not open either.
        let other = try vault.seal("other", for: binding)
        #expect(throws: VaultError.tampered) {
            try vault.open(SealedSecret(keyId: sealed.keyId, wrappedKey: other.wrappedKey, sealed: sealed.sealed), for: binding)
        }
        #expect(throws: VaultError.malformed) { try vault.open(stored: "plain-text", for: binding) }
        #expect(throws: VaultError.malformed) { try vault.open(stored: "tv1.x.!!.??", for: binding) }
    }

    @Test func aWrongKeyFailsClosed() throws {
        let sealed = try vault.seal("s3cret-value", for: binding)
        let wrong = Vault(masterKey: .generate())
        do {
            _ = try wrong.open(sealed, for: binding)
            Issue.record("a wrong key opened a secret")
        } catch {
            #expect(error == .wrongKey(expected: vault.masterKey.id, given: wrong.masterKey.id))
            #expect(error.description.contains("the vault key does not match the key these secrets were sealed with"))
        }
        // A forged key id does not help: the wrapped key still fails to open.
        var forged = sealed
        forged.keyId = wrong.masterKey.id
        #expect(throws: VaultError.tampered) { try wrong.open(forged, for: binding) }
    }

    @Test func rewrapKeepsTheSecretAndChangesTheWrappedKey() throws {
        let sealed = try vault.seal("rotate-me", for: binding)
        let next = Vault(masterKey: .generate())
        let rewrapped = try vault.rewrap(sealed, for: binding, to: next)
        #expect(rewrapped.keyId == next.masterKey.id)
        #expect(rewrapped.wrappedKey != sealed.wrappedKey)
        #expect(try next.open(rewrapped, for: binding) == "rotate-me")
        #expect(throws: VaultError.self) { try vault.open(rewrapped, for: binding) }
        var tampered = sealed
        tampered.sealed[tampered.sealed.startIndex + 13] ^= 1
        #expect(throws: VaultError.tampered) { try vault.rewrap(tampered, for: binding, to: next) }
    }

    @Test func masterKeysParse() throws {
        let key = VaultMasterKey.generate()
        #expect(try VaultMasterKey(text: key.fileText) == key)
        let hex = String(repeating: "ab", count: 32)
        #expect(try VaultMasterKey(text: hex).id == VaultMasterKey(bytes: Data(repeating: 0xab, count: 32)).id)
        #expect(throws: VaultError.self) { try VaultMasterKey(text: "") }
        #expect(throws: VaultError.self) { try VaultMasterKey(text: "c2hvcnQ=") }
        #expect(throws: VaultError.self) { try VaultMasterKey(text: String(repeating: "zz", count: 32)) }
        #expect(key.id.count == 16)
        #expect(!key.fileText.contains(key.id))
    }

    static func principal(_ kind: PrincipalKind, _ system: SystemSecurityLevel?, restrictions: Set<UUID>? = nil, orgs: Set<UUID> = []) -> Principal {
        Principal(
            id: UUID(), kind: kind, displayName: "P", securityLevelId: UUID(), permissions: system?.permissions ?? .nothing, clientRestrictions: restrictions,
            organizationId: orgs.first, associatedOrganizationIds: orgs, coManagementEnabled: true, coManagedOrganizationIds: orgs)
    }

    @Test func whoSeesAndRevealsTheVault() throws {
        let org = UUID(), other = UUID()
        let facts = ScopeFacts(values: [.organization: org])
        func sees(_ p: Principal, _ op: AccessOperation = .view) -> Bool { AccessPolicy.vaultScope(for: p, op).evaluate(facts) }
        let admin = Self.principal(.resource, .administrator), tech = Self.principal(.resource, .technician)
        let dispatcher = Self.principal(.resource, .dispatcher), helpDesk = Self.principal(.resource, .helpDesk)
        let restricted = Self.principal(.resource, .technician, restrictions: [other])
        let coHelpDesk = Self.principal(.coManagingUser, .coManagedHelpDesk, orgs: [org])
        let coBasic = Self.principal(.coManagingUser, .coManagedBasic, orgs: [org])
        let coElsewhere = Self.principal(.coManagingUser, .coManagedHelpDesk, orgs: [other])
        let contact = Self.principal(.contact, nil, orgs: [org])
        #expect(sees(admin) && sees(tech) && sees(coHelpDesk))
        #expect(!sees(dispatcher) && !sees(helpDesk) && !sees(restricted) && !sees(coBasic) && !sees(coElsewhere) && !sees(contact))
        #expect(sees(admin, .delete) && !sees(tech, .create) && !sees(coHelpDesk, .edit))
        #expect(AccessPolicy.mayRevealVault(admin) && AccessPolicy.mayRevealVault(tech))
        #expect(!AccessPolicy.mayRevealVault(coHelpDesk) && !AccessPolicy.mayRevealVault(contact) && !AccessPolicy.mayRevealVault(dispatcher))
        var trusted = coHelpDesk
        trusted.permissions.areas[.vault] = .edit
        #expect(AccessPolicy.mayRevealVault(trusted))
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeVaultReveal(coHelpDesk) }
    }
}
