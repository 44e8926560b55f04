import Crypto
import Foundation

/// The keys a store derives from the platform sealing key, one per purpose, so that no key is used twice.
struct StoreKeys: Sendable {
    static let salt: [UInt8] = Array("darknode/sealed-store/v1".utf8)

    /// AES-256-GCM key for row values and the head.
    let valueKey: SymmetricKey
    /// HMAC-SHA256 key for the row-set digest.
    let digestKey: SymmetricKey
    /// A public fingerprint of the sealing key, kept in clear, so a wrong key is told apart from tampering.
    let keyID: [UInt8]
    /// The store's random 16-byte id (empty until the head is read): in every row's additional data and entry MAC,
    /// so a row of another store sealed under the same key does not open here.
    let storeID: [UInt8]
    /// HMAC-SHA256 under `digestKey` with the entry domain already absorbed: each entry MAC copies it instead of
    /// re-deriving the HMAC key pads and re-hashing the domain (two of the four SHA-256 blocks per entry).
    let entryMACPrefix: HMAC<SHA256>

    init(sealingKey: SymmetricKey, storeID: [UInt8] = []) {
        func derive(_ purpose: String) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: sealingKey, salt: StoreKeys.salt, info: Array(purpose.utf8), outputByteCount: 32)
        }
        valueKey = derive("value")
        digestKey = derive("row-set-digest")
        keyID = derive("key-id").withUnsafeBytes { Array($0) }
        self.storeID = storeID
        entryMACPrefix = StoreKeys.prefix(digestKey, storeID)
    }

    private init(valueKey: SymmetricKey, digestKey: SymmetricKey, keyID: [UInt8], storeID: [UInt8]) {
        self.valueKey = valueKey
        self.digestKey = digestKey
        self.keyID = keyID
        self.storeID = storeID
        entryMACPrefix = StoreKeys.prefix(digestKey, storeID)
    }

    /// The same keys bound to one store's id (read from its authenticated head).
    func bound(to storeID: [UInt8]) -> StoreKeys {
        StoreKeys(valueKey: valueKey, digestKey: digestKey, keyID: keyID, storeID: storeID)
    }

    private static func prefix(_ digestKey: SymmetricKey, _ storeID: [UInt8]) -> HMAC<SHA256> {
        var prefix = HMAC<SHA256>(key: digestKey)
        prefix.update(data: SealedRecordCodec.entryDomain)
        prefix.update(data: storeID)
        return prefix
    }
}

/// How values and the head are sealed, and what each seal authenticates.
///
/// Sealed value: `format (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, AES-256-GCM with a random nonce. The additional
/// data binds the value to where it lives: `domain ‖ store id (16) ‖ u32 len ‖ table ‖ u32 len ‖ row key ‖ u64
/// version` (big-endian). A value copied to another row, another table, another store (even one sealed under the
/// same key), or given another version fails to open.
enum SealedRecordCodec {
    static let format: UInt8 = 1
    /// `store_meta.format`: 2 since store ids (a format-1 store has none and is refused as `unsupportedFormat(1)`).
    static let storeFormat: UInt8 = 2
    static let storeIDLength = 16
    static let overhead = 1 + 12 + 16
    static let rowDomain: [UInt8] = Array("darknode/sealed-store/v1/row".utf8)
    static let headDomain: [UInt8] = Array("darknode/sealed-store/v1/head".utf8)
    static let entryDomain: [UInt8] = Array("darknode/sealed-store/v1/entry".utf8)

    static func rowAAD(storeID: [UInt8], table: String, key: [UInt8], version: UInt64) -> [UInt8] {
        var aad: [UInt8] = []
        aad.reserveCapacity(rowDomain.count + storeID.count + 4 + table.utf8.count + 4 + key.count + 8)
        aad += rowDomain
        aad += storeID
        appendLengthPrefixed(Array(table.utf8), to: &aad)
        appendLengthPrefixed(key, to: &aad)
        appendUInt64(version, to: &aad)
        return aad
    }

    static func seal(_ plaintext: [UInt8], key: SymmetricKey, aad: [UInt8]) -> [UInt8] {
        // AES-GCM with a fresh random nonce cannot fail for inputs below 64 GiB.
        let box = try! AES.GCM.seal(plaintext, using: key, authenticating: aad)
        // One allocation for the result (not `[format] + Array(box.combined)`, which copies twice).
        var sealed: [UInt8] = []
        sealed.reserveCapacity(overhead + plaintext.count)
        sealed.append(format)
        box.nonce.withUnsafeBytes { sealed.append(contentsOf: $0) }
        sealed.append(contentsOf: box.ciphertext)
        sealed.append(contentsOf: box.tag)
        return sealed
    }

    /// Opens a sealed value; nil when it is malformed or fails authentication.
    ///
    /// Takes the `Data` SQLite returned as is: swift-crypto's generic entry points are fast for `Data` and slow for
    /// `ArraySlice<UInt8>` (unspecialised generic code with runtime metadata look-ups, which profiling showed to
    /// cost more than the AES-GCM work itself).
    static func open(_ sealed: Data, key: SymmetricKey, aad: [UInt8]) -> [UInt8]? {
        guard sealed.count >= overhead, sealed.first == format else { return nil }
        guard let box = try? AES.GCM.SealedBox(combined: sealed.subdata(in: sealed.startIndex + 1 ..< sealed.endIndex)),
            let plaintext = try? AES.GCM.open(box, using: key, authenticating: aad)
        else { return nil }
        return Array(plaintext)
    }

    /// One row's contribution to the row-set digest: HMAC over (store id, table, key, version). Versions are unique per
    /// row (each batch takes a new counter value), so the XOR of these MACs commits to the exact set of rows.
    static func entryMAC(table: String, key: [UInt8], version: UInt64, keys: StoreKeys) -> HashedAuthenticationCode<SHA256> {
        var message: [UInt8] = []
        message.reserveCapacity(4 + table.utf8.count + 4 + key.count + 8)
        appendLengthPrefixed(Array(table.utf8), to: &message)
        appendLengthPrefixed(key, to: &message)
        appendUInt64(version, to: &message)
        var mac = keys.entryMACPrefix  // HMAC(digestKey) after entryDomain ‖ store id
        mac.update(data: message)
        return mac.finalize()
    }

    static func xor(_ a: inout [UInt8], _ b: HashedAuthenticationCode<SHA256>) {
        b.withUnsafeBytes { mac in
            for index in a.indices { a[index] ^= mac[index] }
        }
    }

    static func appendLengthPrefixed(_ bytes: [UInt8], to output: inout [UInt8]) {
        let length = UInt32(bytes.count)
        output += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        output += bytes
    }

    static func appendUInt64(_ value: UInt64, to output: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(value >> UInt64(shift) & 0xFF)) }
    }

    static func readUInt64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// The store's authenticated state, sealed in the one `store_meta` row.
struct StoreHead: Sendable, Equatable {
    static let encodedLength = 1 + 8 + 8 + 32 + 8 + SealedRecordCodec.storeIDLength
    /// Increases by one with every committed batch; each row's version is the counter of the batch that wrote it.
    var counter: UInt64
    /// How many rows the store holds.
    var rowCount: UInt64
    /// XOR of every row's entry MAC.
    var rowSetDigest: [UInt8]
    /// The highest external monotonic value (e.g. consensus height) anchored into this store.
    var externalAnchor: UInt64
    /// This store's random id, chosen at creation.
    var storeID: [UInt8]

    static func empty(storeID: [UInt8]) -> StoreHead {
        StoreHead(counter: 0, rowCount: 0, rowSetDigest: [UInt8](repeating: 0, count: 32), externalAnchor: 0, storeID: storeID)
    }

    var encoded: [UInt8] {
        var bytes: [UInt8] = [SealedRecordCodec.format]
        SealedRecordCodec.appendUInt64(counter, to: &bytes)
        SealedRecordCodec.appendUInt64(rowCount, to: &bytes)
        bytes += rowSetDigest
        SealedRecordCodec.appendUInt64(externalAnchor, to: &bytes)
        bytes += storeID
        return bytes
    }

    init(counter: UInt64, rowCount: UInt64, rowSetDigest: [UInt8], externalAnchor: UInt64, storeID: [UInt8]) {
        self.counter = counter
        self.rowCount = rowCount
        self.rowSetDigest = rowSetDigest
        self.externalAnchor = externalAnchor
        self.storeID = storeID
    }

    init?(encoded bytes: [UInt8]) {
        guard bytes.count == StoreHead.encodedLength, bytes[0] == SealedRecordCodec.format else { return nil }
        counter = SealedRecordCodec.readUInt64(bytes[1..<9])
        rowCount = SealedRecordCodec.readUInt64(bytes[9..<17])
        rowSetDigest = Array(bytes[17..<49])
        externalAnchor = SealedRecordCodec.readUInt64(bytes[49..<57])
        storeID = Array(bytes[57..<73])
    }
}
