/// The proof-of-work rules of one network (Core's chainparams.cpp consensus fields).
public struct ChainParameters: Sendable {
    public let network: Network
    /// Easiest allowed target.
    public let powLimit: UInt256
    /// Two weeks: the span one difficulty period should take.
    public let targetTimespan: UInt64 = 14 * 24 * 60 * 60
    /// Ten minutes.
    public let targetSpacing: UInt64 = 600
    /// Testnet3 and regtest: a block more than 20 minutes after its parent may use the powLimit difficulty.
    public let allowsMinimumDifficultyBlocks: Bool
    /// Regtest: difficulty never changes.
    public let noRetargeting: Bool
    /// The first header of the chain (its hash anchors verification from genesis).
    public let genesisHash: String

    public var retargetInterval: Int { Int(targetTimespan / targetSpacing) }
    public var powLimitBits: UInt32 { powLimit.compact }

    public static let mainnet = ChainParameters(network: .mainnet,
        powLimit: UInt256(hex: "00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff")!,
        allowsMinimumDifficultyBlocks: false, noRetargeting: false,
        genesisHash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")
    /// Testnet3 rules (not testnet4's BIP94 variant).
    public static let testnet = ChainParameters(network: .testnet,
        powLimit: UInt256(hex: "00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff")!,
        allowsMinimumDifficultyBlocks: true, noRetargeting: false,
        genesisHash: "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943")
    /// Signet retargets like mainnet; its block signatures (the signet challenge) are not checked here.
    public static let signet = ChainParameters(network: .signet,
        powLimit: UInt256(hex: "00000377ae000000000000000000000000000000000000000000000000000000")!,
        allowsMinimumDifficultyBlocks: false, noRetargeting: false,
        genesisHash: "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6")
    public static let regtest = ChainParameters(network: .regtest,
        powLimit: UInt256(hex: "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")!,
        allowsMinimumDifficultyBlocks: true, noRetargeting: true,
        genesisHash: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206")

    public static func of(_ network: Network) -> ChainParameters {
        switch network {
        case .mainnet: return .mainnet
        case .testnet: return .testnet
        case .signet: return .signet
        case .regtest: return .regtest
        }
    }

    /// Core's CalculateNextWorkRequired: scale the last target by the period's actual timespan, clamped to
    /// [¼, 4×] of two weeks, capped at powLimit. `firstTime` is the period's first block, `lastTime` its last.
    public func retargetedBits(lastBits: UInt32, firstTime: UInt32, lastTime: UInt32) -> UInt32 {
        if noRetargeting { return lastBits }
        var timespan = Int64(lastTime) - Int64(firstTime)
        timespan = min(max(timespan, Int64(targetTimespan / 4)), Int64(targetTimespan * 4))
        let (old, _, _) = UInt256.decodeCompact(lastBits)
        let (scaled, overflow) = old.multipliedReportingOverflow(by: UInt64(timespan))
        var new = scaled.divided(by: targetTimespan)
        if overflow || new > powLimit { new = powLimit }
        return new.compact
    }

    /// Checks that `hash` meets the target `bits` encodes and that the target is well-formed and within powLimit
    /// (Core's CheckProofOfWork).
    public func checkProofOfWork(hash: [UInt8], bits: UInt32) -> Bool {
        let (target, negative, overflow) = UInt256.decodeCompact(bits)
        guard !negative, !overflow, target != .zero, !(target > powLimit) else { return false }
        return !(UInt256(littleEndian: hash) > target)
    }
}
