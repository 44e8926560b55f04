import Secp256k1

/// A coin locked by a gateway or custody script: what releases, sweeps and recovery spends consume.
public struct GatewayCoin: Hashable, Sendable {
    public let outpoint: OutPoint
    public let value: UInt64
    public let script: GatewayScript

    public init(outpoint: OutPoint, value: UInt64, script: GatewayScript) {
        self.outpoint = outpoint
        self.value = value
        self.script = script
    }
}

/// Which branch of the gateway script an input spends; decides its witness, its nSequence and its size.
public enum GatewayBranch: Sendable, Equatable {
    /// The shard's threshold key, spendable at once.
    case network
    /// The m-of-k recovery keys, spendable once the input is `delayBlocks` deep (BIP68 nSequence = delay).
    case recovery
}

/// Fee rate in satoshi per virtual byte; fees are computed from weight (BIP141) so segwit discounts count.
public struct FeeRate: Hashable, Sendable {
    public let satoshisPerVirtualByte: UInt64
    public init(satoshisPerVirtualByte: UInt64) { self.satoshisPerVirtualByte = satoshisPerVirtualByte }

    /// fee = ⌈weight / 4⌉ × rate.
    public func fee(weight: Int) -> UInt64 { UInt64((weight + 3) / 4) * satoshisPerVirtualByte }
}

/// An unsigned spend of gateway coins: the transaction, the coins it spends and the branch of each, so that it can
/// produce every input's BIP143 sighash (what the MPC network signs) and then assemble the witnesses.
public struct GatewaySpend: Sendable {
    public private(set) var transaction: Transaction
    public let coins: [GatewayCoin]
    public let branch: GatewayBranch

    /// Upper bound for a DER signature plus its sighash byte (72 + 1).
    static let signatureBytesMax = 73

    /// Builds a spend of `coins` paying `payments`, and `change` (if any) to `changeScript`; the fee is taken from
    /// the change (or, without a change script, the remainder is the fee and must cover `feeRate`). Inputs on the
    /// recovery branch carry nSequence = delay, which BIP112 compares against the CSV argument.
    public init(coins: [GatewayCoin], branch: GatewayBranch, payments: [TxOutput], changeScript: Script?, feeRate: FeeRate, dustLimit: UInt64 = 546) throws(BitcoinError) {
        guard !coins.isEmpty else { throw .invalidAmount("no coins to spend") }
        guard coins.count <= Limits.transactionInputsMax else {
            throw .oversize(field: "inputs", count: coins.count, limit: Limits.transactionInputsMax)
        }
        var total: UInt64 = 0
        for c in coins {
            guard c.value <= Limits.moneyMax else { throw .invalidAmount("coin above 21M BTC") }
            total += c.value
        }
        var paid: UInt64 = 0
        for p in payments {
            guard p.value <= Limits.moneyMax else { throw .invalidAmount("payment above 21M BTC") }
            paid += p.value
        }
        guard total <= Limits.moneyMax, paid <= total else { throw .invalidAmount("payments \(paid) exceed inputs \(total)") }
        let inputs = coins.map { c in
            TxInput(previousOutput: c.outpoint, sequence: branch == .recovery ? c.script.recovery.sequence : TxInput.noRelativeLockSequence)
        }
        var tx = Transaction(version: 2, inputs: inputs, outputs: payments, lockTime: 0)
        let witnessWeight = coins.reduce(0) { $0 + GatewaySpend.witnessBytesMax(script: $1.script, branch: branch) } + 2  // + marker, flag
        if let changeScript {
            tx.outputs.append(TxOutput(value: 0, scriptPubKey: changeScript))
            let fee = feeRate.fee(weight: tx.baseSize * 4 + witnessWeight)
            guard paid + fee <= total else { throw .invalidAmount("inputs \(total) do not cover payments \(paid) + fee \(fee)") }
            let change = total - paid - fee
            if change < dustLimit { tx.outputs.removeLast() } else { tx.outputs[tx.outputs.count - 1].value = change }
        } else {
            let fee = feeRate.fee(weight: tx.baseSize * 4 + witnessWeight)
            guard paid + fee <= total else { throw .invalidAmount("inputs \(total) do not cover payments \(paid) + fee \(fee)") }
        }
        guard !tx.outputs.isEmpty else { throw .invalidAmount("nothing left to pay after the fee") }
        self.transaction = tx
        self.coins = coins
        self.branch = branch
    }

    /// Sweep: every coin into one custody output, minus the fee. This is the epoch spend that resets the
    /// recovery clock.
    public static func sweep(coins: [GatewayCoin], to custody: GatewayScript, feeRate: FeeRate) throws(BitcoinError) -> GatewaySpend {
        try GatewaySpend(coins: coins, branch: .network, payments: [], changeScript: custody.scriptPubKey, feeRate: feeRate)
    }

    /// Release: pay `destinations`, change back to custody.
    public static func release(coins: [GatewayCoin], payments: [(Destination, UInt64)], change custody: GatewayScript, feeRate: FeeRate) throws(BitcoinError) -> GatewaySpend {
        try GatewaySpend(coins: coins, branch: .network, payments: payments.map { TxOutput(value: $0.1, scriptPubKey: $0.0.scriptPubKey) }, changeScript: custody.scriptPubKey, feeRate: feeRate)
    }

    /// Recovery: the m-of-k keys move coins after the delay.
    public static func recovery(coins: [GatewayCoin], to destination: Script, feeRate: FeeRate) throws(BitcoinError) -> GatewaySpend {
        try GatewaySpend(coins: coins, branch: .recovery, payments: [], changeScript: destination, feeRate: feeRate)
    }

    /// Largest serialized witness (in bytes = weight units) for one input on `branch`.
    static func witnessBytesMax(script: GatewayScript, branch: GatewayBranch) -> Int {
        let ws = script.witnessScript.bytes.count
        let scriptItem = compactSizeLength(ws) + ws
        switch branch {
        case .network: return 1 + (1 + signatureBytesMax) + 2 + scriptItem
        case .recovery: return 1 + 1 + script.recovery.threshold * (1 + signatureBytesMax) + 1 + scriptItem
        }
    }

    static func compactSizeLength(_ n: Int) -> Int { n < 0xFD ? 1 : n <= 0xFFFF ? 3 : 5 }

    /// The BIP143 SIGHASH_ALL digest of every input, in input order.
    public func sighashes() -> [[UInt8]] {
        let hasher = SegwitSighasher(transaction)
        return coins.indices.map { i in
            try! hasher.sighash(inputIndex: i, scriptCode: coins[i].script.witnessScript, amount: coins[i].value, type: .all)
        }
    }

    /// Assembles network-branch witnesses from one shard signature per input, verifying each against its sighash
    /// and the shard key first (a bad MPC output must not reach the chain).
    public mutating func applyNetworkSignatures(_ signatures: [ECDSASignature]) throws(BitcoinError) {
        precondition(branch == .network && signatures.count == coins.count, "one signature per network-branch input")
        let digests = sighashes()
        for i in coins.indices {
            let sig = signatures[i]
            guard !sig.isHighS, coins[i].script.shardKey.isValidSignature(sig, for: digests[i]) else { throw .invalidSignature(input: i) }
            transaction.inputs[i].witness = coins[i].script.networkWitness(signature: sig.der + [UInt8(SighashType.all.rawValue)])
        }
    }

    /// Assembles recovery-branch witnesses. `signatures[i]` holds, for input i, the signatures of the signing
    /// recovery keys, each tagged with its key index; they are put in key order as CHECKMULTISIG requires.
    public mutating func applyRecoverySignatures(_ signatures: [[(keyIndex: Int, signature: ECDSASignature)]]) throws(BitcoinError) {
        precondition(branch == .recovery && signatures.count == coins.count, "one signature set per recovery input")
        let digests = sighashes()
        for i in coins.indices {
            let policy = coins[i].script.recovery
            let sorted = signatures[i].sorted { $0.keyIndex < $1.keyIndex }
            guard sorted.count == policy.threshold, Set(sorted.map(\.keyIndex)).count == sorted.count else { throw .invalidSignature(input: i) }
            for s in sorted {
                guard policy.keys.indices.contains(s.keyIndex), !s.signature.isHighS,
                      policy.keys[s.keyIndex].isValidSignature(s.signature, for: digests[i]) else { throw .invalidSignature(input: i) }
            }
            transaction.inputs[i].witness = coins[i].script.recoveryWitness(signatures: sorted.map { $0.signature.der + [UInt8(SighashType.all.rawValue)] })
        }
    }

    /// The fee paid: inputs minus outputs.
    public var fee: UInt64 { coins.reduce(0) { $0 + $1.value } - transaction.outputs.reduce(0) { $0 + $1.value } }
}
