import Secp256k1

/// The recovery half of every gateway and custody script: after `delayBlocks` confirmations (BIP68/BIP112
/// relative lock, `OP_CHECKSEQUENCEVERIFY`), `threshold` of `keys` may spend. It exists so coins are never stuck
/// if a shard dies; the network resets the clock by sweeping every epoch, long before the delay runs out.
public struct RecoveryPolicy: Hashable, Sendable {
    /// One week of blocks at the 10-minute target (6 × 24 × 7).
    public static let defaultDelayBlocks = 1008

    public let delayBlocks: Int
    public let threshold: Int
    public let keys: [PublicKey]

    /// Checks the ranges consensus enforces: 1 ≤ m ≤ k ≤ 20 keys (MAX_PUBKEYS_PER_MULTISIG) and a delay that fits
    /// BIP68's 16-bit block count (0 is refused: it would make the recovery branch spendable at once).
    public init(delayBlocks: Int = RecoveryPolicy.defaultDelayBlocks, threshold: Int, keys: [PublicKey]) throws(BitcoinError) {
        guard (1...Limits.relativeLockBlocksMax).contains(delayBlocks) else {
            throw .invalidScriptParameter("delay \(delayBlocks) outside 1…\(Limits.relativeLockBlocksMax) blocks")
        }
        guard (1...Limits.multisigKeysMax).contains(keys.count) else {
            throw .invalidScriptParameter("\(keys.count) recovery keys; need 1…\(Limits.multisigKeysMax)")
        }
        guard (1...keys.count).contains(threshold) else {
            throw .invalidScriptParameter("threshold \(threshold) of \(keys.count) keys")
        }
        self.delayBlocks = delayBlocks
        self.threshold = threshold
        self.keys = keys
    }

    /// The nSequence a recovery input must carry: BIP68 type-flag clear (blocks), value = delay.
    public var sequence: UInt32 { UInt32(delayBlocks) }
}

/// A P2WSH gateway or custody witness script:
///
///     OP_IF [<gHash> OP_DROP] <shard pubkey> OP_CHECKSIG
///     OP_ELSE <delay> OP_CHECKSEQUENCEVERIFY OP_DROP <m> <recovery pubkeys…> <k> OP_CHECKMULTISIG
///     OP_ENDIF
///
/// The gHash (RenVM's deposit intent) makes each deposit's address unique, exactly as RenVM's P2SH gateway does;
/// it is pushed and dropped so it costs nothing to spend. The custody output that sweeps pay into omits it.
/// The network branch is selected with a witness `1`, the recovery branch with an empty item (MINIMALIF).
public struct GatewayScript: Hashable, Sendable {
    /// 32 bytes for a deposit gateway; nil for the custody output.
    public let gHash: [UInt8]?
    public let shardKey: PublicKey
    public let recovery: RecoveryPolicy

    public init(gHash: [UInt8]?, shardKey: PublicKey, recovery: RecoveryPolicy) throws(BitcoinError) {
        if let g = gHash, g.count != 32 { throw .invalidRenVMParameter("gHash must be 32 bytes, got \(g.count)") }
        self.gHash = gHash
        self.shardKey = shardKey
        self.recovery = recovery
    }

    /// The witness script, built with minimal pushes.
    public var witnessScript: Script {
        var items: [ScriptBuilderItem] = [.op(.if)]
        if let g = gHash { items += [.data(g), .op(.drop)] }
        items += [.data(shardKey.compressed), .op(.checkSig), .op(.else),
                  .number(Int64(recovery.delayBlocks)), .op(.checkSequenceVerify), .op(.drop),
                  .number(Int64(recovery.threshold))]
        items += recovery.keys.map { .data($0.compressed) }
        items += [.number(Int64(recovery.keys.count)), .op(.checkMultisig), .op(.endIf)]
        return Script(items)
    }

    /// `OP_0 <SHA256(witnessScript)>`.
    public var scriptPubKey: Script { Script.p2wsh(witnessScript: witnessScript) }

    public func address(network: Network) -> String {
        try! SegwitAddress.encode(network: network, version: 0, program: BitcoinHashes.sha256(witnessScript.bytes))
    }

    /// Recognises a gateway or custody witness script, requiring minimal pushes and compressed keys, and
    /// rejecting anything else (extra opcodes, wrong counts, a threshold above the key count).
    public init(parsing script: Script) throws(BitcoinError) {
        let e = try script.elements(requireMinimalPushes: true)
        var i = 0
        func next() throws(BitcoinError) -> ScriptElement {
            guard i < e.count else { throw .unexpectedScriptShape("gateway script ends early") }
            defer { i += 1 }
            return e[i]
        }
        func expect(_ op: Opcode) throws(BitcoinError) {
            guard case .op(op) = try next() else { throw .unexpectedScriptShape("expected \(op) at element \(i - 1)") }
        }
        func data(_ count: Int) throws(BitcoinError) -> [UInt8] {
            guard case .push(let d, _) = try next(), d.count == count else {
                throw .unexpectedScriptShape("expected a \(count)-byte push at element \(i - 1)")
            }
            return d
        }
        func number() throws(BitcoinError) -> Int64 {
            switch try next() {
            case .op(let op): if let n = op.smallIntegerValue { return Int64(n) }
            case .push(let d, _): return try Script.decodeNumber(d, maxBytes: 3)
            }
            throw .unexpectedScriptShape("expected a number at element \(i - 1)")
        }
        func key() throws(BitcoinError) -> PublicKey {
            let bytes = try data(33)
            do { return try PublicKey(encoded: bytes) } catch { throw .invalidPublicKey }
        }
        try expect(.if)
        var gHash: [UInt8]? = nil
        if case .push(let d, _) = e.count > 1 ? e[1] : .op(.nop), d.count == 32 {
            gHash = try data(32)
            try expect(.drop)
        }
        let shard = try key()
        try expect(.checkSig)
        try expect(.else)
        let delay = try number()
        try expect(.checkSequenceVerify)
        try expect(.drop)
        let m = try number()
        var keys: [PublicKey] = []
        while i < e.count, case .push(let d, _) = e[i], d.count == 33 {
            keys.append(try key())
        }
        let k = try number()
        try expect(.checkMultisig)
        try expect(.endIf)
        guard i == e.count else { throw .unexpectedScriptShape("trailing elements after OP_ENDIF") }
        guard k == Int64(keys.count) else { throw .unexpectedScriptShape("key count \(k) but \(keys.count) keys") }
        guard delay >= 1, delay <= Int64(Limits.relativeLockBlocksMax), m >= 1, m <= k else {
            throw .invalidScriptParameter("delay \(delay), threshold \(m) of \(k)")
        }
        try self.init(gHash: gHash, shardKey: shard,
                      recovery: RecoveryPolicy(delayBlocks: Int(delay), threshold: Int(m), keys: keys))
        guard witnessScript == script else { throw .unexpectedScriptShape("script does not re-encode identically") }
    }

    // MARK: Witnesses

    /// Witness for the network branch: `<sig‖type> 1 <witnessScript>`.
    public func networkWitness(signature: [UInt8]) -> [[UInt8]] {
        [signature, [1], witnessScript.bytes]
    }

    /// Witness for the recovery branch: `<> <sig₁‖type> … <sigₘ‖type> <> <witnessScript>`. The leading empty item
    /// is CHECKMULTISIG's extra pop (NULLDUMMY); signatures must be in key order; the empty item before the
    /// script selects OP_ELSE.
    public func recoveryWitness(signatures: [[UInt8]]) -> [[UInt8]] {
        precondition(signatures.count == recovery.threshold, "recovery needs exactly m signatures")
        return [[]] + signatures + [[], witnessScript.bytes]
    }
}

/// RenVM's original P2SH gateway, kept byte-exact for compatibility with ren-js v3 deposits:
/// `<gHash> OP_DROP OP_DUP OP_HASH160 <HASH160(gPubKey)> OP_EQUALVERIFY OP_CHECKSIG` (59 bytes).
public struct LegacyGatewayScript: Hashable, Sendable {
    public let gHash: [UInt8]
    public let shardKeyHash: [UInt8]

    public init(gHash: [UInt8], shardKey: PublicKey) throws(BitcoinError) {
        guard gHash.count == 32 else { throw .invalidRenVMParameter("gHash must be 32 bytes, got \(gHash.count)") }
        self.gHash = gHash
        self.shardKeyHash = BitcoinHashes.hash160(shardKey.compressed)
    }

    public var redeemScript: Script {
        Script([.data(gHash), .op(.drop), .op(.dup), .op(.hash160), .data(shardKeyHash), .op(.equalVerify), .op(.checkSig)])
    }

    public var scriptPubKey: Script { Script.p2sh(redeemScript: redeemScript) }

    public func address(network: Network) -> String {
        Base58Address.encode(version: network.scriptHashVersion, payload: BitcoinHashes.hash160(redeemScript.bytes))
    }

    /// scriptSig for spending: `<sig‖type> <pubkey> <redeemScript>`.
    public func scriptSig(signature: [UInt8], shardKey: PublicKey) -> Script {
        Script([.data(signature), .data(shardKey.compressed), .data(redeemScript.bytes)])
    }
}
