import Crypto
import Foundation

/// Why the vault refused to open or seal a secret. Never carries the secret.
public enum VaultError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The master key is not the one the secret was sealed with (its key id differs).
    case wrongKey(expected: String, given: String)
    /// The ciphertext, its tag, its wrapped key or its binding (row, purpose) does not check out.
    case tampered
    /// The stored text is not an envelope this version writes.
    case malformed
    /// The master key given is not 32 bytes of base64 or hex.
    case invalidMasterKey(String)

    public var description: String {
        switch self {
        case .wrongKey(let expected, let given):
            "the vault key does not match the key these secrets were sealed with (sealed with key \(expected), the configured key is \(given))"
        case .tampered: "a sealed secret failed its integrity check (changed, or copied from another row); it was not opened"
        case .malformed: "a sealed secret is not in a format this version of Tandem reads"
        case .invalidMasterKey(let reason): "the vault key is invalid: \(reason)"
        }
    }

    /// What an API answer says: the same without the keys' fingerprints, which go to the server log only
    /// (a wrong key can surface on an unauthenticated login with a two-factor code).
    public var publicDescription: String {
        switch self {
        case .wrongKey: "the vault key does not match the key these secrets were sealed with; the server log names both keys"
        default: description
        }
    }
}

/// The master key (SPEC §9): 32 bytes, given as base64 or hex, never stored in the database. It only
/// wraps data keys; its id (a fingerprint) is stored beside each wrapped key so a wrong key fails closed.
public struct VaultMasterKey: Sendable, Equatable {
    let key: SymmetricKey
    /// The first 8 bytes of SHA-256 over a label and the key, hex: names the key without revealing it.
    public let id: String

    public init(bytes: Data) throws(VaultError) {
        guard bytes.count == 32 else { throw .invalidMasterKey("it must be 32 bytes (256 bits), got \(bytes.count)") }
        key = SymmetricKey(data: bytes)
        var hasher = SHA256()
        hasher.update(data: Data("tandem-vault-key-id:v1:".utf8))
        hasher.update(data: bytes)
        id = hasher.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Parses a key as written in a key file or `TANDEM_VAULT_KEY`: base64 (padded or not) or 64 hex digits.
    public init(text: String) throws(VaultError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, let bytes = Self.hex(trimmed) {
            try self.init(bytes: bytes)
            return
        }
        var padded = trimmed.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while padded.count % 4 != 0 { padded += "=" }
        guard !trimmed.isEmpty, let bytes = Data(base64Encoded: padded) else {
            throw .invalidMasterKey("it must be 32 bytes written as base64 or as 64 hex digits")
        }
        try self.init(bytes: bytes)
    }

    /// A fresh random key.
    public static func generate() -> VaultMasterKey {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return try! VaultMasterKey(bytes: bytes)
    }

    /// The key as a key file holds it (base64 and a newline).
    public var fileText: String { key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.id == rhs.id }

    private static func hex(_ text: String) -> Data? {
        var data = Data(capacity: text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}

/// What a sealed secret is bound to: its row and its purpose ("credential.secret", "totp"). Copying a
/// sealed value to another row or column makes it fail to open.
public struct VaultBinding: Sendable, Equatable {
    public var purpose: String
    public var rowId: UUID

    public init(_ purpose: String, rowId: UUID) {
        self.purpose = purpose
        self.rowId = rowId
    }

    var associatedData: Data { Data("tandem-vault:v1:\(purpose):\(rowId.uuidString.lowercased())".utf8) }
}

/// Envelope encryption with AES-256-GCM: each secret is sealed with its own random data key under a
/// random 96-bit nonce; the data key is sealed (wrapped) by the master key. Both seals carry the
/// binding as associated data. Stored as one text value: `tv1.<key id>.<wrapped key>.<sealed secret>`
/// (base64url, each sealed box being nonce ‖ ciphertext ‖ tag).
public struct SealedSecret: Sendable, Equatable {
    public static let prefix = "tv1"

    public var keyId: String
    public var wrappedKey: Data
    public var sealed: Data

    public init(keyId: String, wrappedKey: Data, sealed: Data) {
        self.keyId = keyId
        self.wrappedKey = wrappedKey
        self.sealed = sealed
    }

    public init(stored: String) throws(VaultError) {
        let parts = stored.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.prefix, !parts[1].isEmpty, let wrapped = Self.decode(parts[2]), let sealed = Self.decode(parts[3])
        else { throw .malformed }
        self.init(keyId: String(parts[1]), wrappedKey: wrapped, sealed: sealed)
    }

    public var stored: String { [Self.prefix, keyId, Self.encode(wrappedKey), Self.encode(sealed)].joined(separator: ".") }

    private static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func decode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// Seals, opens and re-wraps secrets with one master key.
public struct Vault: Sendable {
    public let masterKey: VaultMasterKey

    public init(masterKey: VaultMasterKey) {
        self.masterKey = masterKey
    }

    /// Seals `secret` with a fresh data key and fresh nonces.
    public func seal(_ secret: String, for binding: VaultBinding) throws -> SealedSecret {
        let dataKey = SymmetricKey(size: .bits256)
        let aad = binding.associatedData
        let sealedSecret = try AES.GCM.seal(Data(secret.utf8), using: dataKey, nonce: AES.GCM.Nonce(), authenticating: aad)
        let keyBytes = dataKey.withUnsafeBytes { Data($0) }
        let wrapped = try AES.GCM.seal(keyBytes, using: masterKey.key, nonce: AES.GCM.Nonce(), authenticating: wrapAAD(aad, keyId: masterKey.id))
        return SealedSecret(keyId: masterKey.id, wrappedKey: wrapped.combined!, sealed: sealedSecret.combined!)
    }

    public func seal(stored secret: String, for binding: VaultBinding) throws -> String { try seal(secret, for: binding).stored }

    /// Opens a sealed secret; throws `VaultError` when the key is wrong or anything was changed.
    public func open(_ sealed: SealedSecret, for binding: VaultBinding) throws(VaultError) -> String {
        let dataKey = try unwrap(sealed, binding: binding)
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.sealed)
            let plain = try AES.GCM.open(box, using: dataKey, authenticating: binding.associatedData)
            guard let text = String(data: plain, encoding: .utf8) else { throw VaultError.tampered }
            return text
        } catch {
            throw .tampered
        }
    }

    public func open(stored: String, for binding: VaultBinding) throws(VaultError) -> String {
        try open(SealedSecret(stored: stored), for: binding)
    }

    /// The same secret under `newVault`'s master key: the data key is unwrapped with this vault's key and
    /// wrapped again with a fresh nonce; the sealed secret itself is unchanged (and checked first).
    public func rewrap(_ sealed: SealedSecret, for binding: VaultBinding, to newVault: Vault) throws -> SealedSecret {
        let dataKey = try unwrap(sealed, binding: binding)
        // Refuse to carry a tampered secret forward.
        _ = try open(sealed, for: binding)
        let keyBytes = dataKey.withUnsafeBytes { Data($0) }
        let wrapped = try AES.GCM.seal(
            keyBytes, using: newVault.masterKey.key, nonce: AES.GCM.Nonce(), authenticating: wrapAAD(binding.associatedData, keyId: newVault.masterKey.id))
        return SealedSecret(keyId: newVault.masterKey.id, wrappedKey: wrapped.combined!, sealed: sealed.sealed)
    }

    private func unwrap(_ sealed: SealedSecret, binding: VaultBinding) throws(VaultError) -> SymmetricKey {
        guard sealed.keyId == masterKey.id else { throw .wrongKey(expected: sealed.keyId, given: masterKey.id) }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.wrappedKey)
            let bytes = try AES.GCM.open(box, using: masterKey.key, authenticating: wrapAAD(binding.associatedData, keyId: masterKey.id))
            guard bytes.count == 32 else { throw VaultError.tampered }
            return SymmetricKey(data: bytes)
        } catch {
            throw .tampered
        }
    }

    private func wrapAAD(_ aad: Data, keyId: String) -> Data { Data("wrap:\(keyId):".utf8) + aad }
}
