/// A trusted starting point for header verification: a header the verifier accepts without proof (genesis or a
/// checkpoint compiled into the release), with what the difficulty rules need to judge its successors.
public struct ChainCheckpoint: Sendable {
    public let header: BlockHeader
    public let height: Int
    /// Time of the first block of the difficulty period containing `height` (needed for the next retarget).
    public let periodStartTime: UInt32
    /// Up to eleven timestamps ending with this header's, oldest first, for the median-time-past rule.
    public let recentTimes: [UInt32]
    /// Accumulated work up to and including this header (zero if unknown: depth is then counted from here).
    public let chainWork: UInt256
    /// Testnet3 only: bits of the last block that was not a minimum-difficulty exception.
    public let lastNormalBits: UInt32

    public init(header: BlockHeader, height: Int, periodStartTime: UInt32, recentTimes: [UInt32] = [], chainWork: UInt256 = .zero, lastNormalBits: UInt32? = nil) {
        self.header = header
        self.height = height
        self.periodStartTime = periodStartTime
        self.recentTimes = Array((recentTimes.isEmpty ? [header.time] : recentTimes).suffix(11))
        self.chainWork = chainWork
        self.lastNormalBits = lastNormalBits ?? header.bits
    }

    /// The genesis block as checkpoint; its work counts.
    public static func genesis(_ header: BlockHeader, parameters: ChainParameters) -> ChainCheckpoint {
        ChainCheckpoint(header: header, height: 0, periodStartTime: header.time, recentTimes: [header.time],
                        chainWork: UInt256.work(target: UInt256.decodeCompact(header.bits).target))
    }
}

/// Verifies headers one at a time from a checkpoint: linkage, proof of work, the exact nBits the network's
/// difficulty rule demands, and median-time-past. A pure state machine: `append` either advances the tip or
/// throws and leaves it unchanged. Header times in the future are not judged here (that needs a clock; the
/// caller's adapter applies Core's two-hour rule).
public struct HeaderChainVerifier: Sendable {
    public let parameters: ChainParameters
    public private(set) var tipHash: [UInt8]
    public private(set) var tipHeight: Int
    public private(set) var tipBits: UInt32
    public private(set) var tipTime: UInt32
    public private(set) var chainWork: UInt256
    /// Time of the first block of the tip's difficulty period (the next retarget measures from it).
    public private(set) var periodStartTime: UInt32
    /// Up to eleven timestamps ending with the tip's, oldest first (median-time-past).
    public private(set) var recentTimes: [UInt32]
    /// Testnet3 only: bits of the last block that was not a minimum-difficulty exception.
    public private(set) var lastNormalBits: UInt32
    /// Work per nBits value; nBits changes at most every 2016 blocks, and the 256-bit division is the costly part.
    var workCache: (bits: UInt32, work: UInt256)

    public init(parameters: ChainParameters, checkpoint: ChainCheckpoint) {
        self.parameters = parameters
        tipHash = checkpoint.header.hash
        tipHeight = checkpoint.height
        tipBits = checkpoint.header.bits
        tipTime = checkpoint.header.time
        chainWork = checkpoint.chainWork
        periodStartTime = checkpoint.periodStartTime
        recentTimes = checkpoint.recentTimes
        lastNormalBits = checkpoint.lastNormalBits
        workCache = (checkpoint.header.bits, UInt256.work(target: UInt256.decodeCompact(checkpoint.header.bits).target))
    }

    /// The nBits the next header must carry (Core's GetNextWorkRequired).
    public func expectedBits(forTime time: UInt32) -> UInt32 {
        let height = tipHeight + 1
        let interval = parameters.retargetInterval
        if height % interval != 0 {
            if parameters.allowsMinimumDifficultyBlocks {
                if UInt64(time) > UInt64(tipTime) + parameters.targetSpacing * 2 { return parameters.powLimitBits }
                return lastNormalBits
            }
            return tipBits
        }
        return parameters.retargetedBits(lastBits: tipBits, firstTime: periodStartTime, lastTime: tipTime)
    }

    /// Median of the last eleven timestamps (Core's GetMedianTimePast).
    public var medianTimePast: UInt32 {
        let sorted = recentTimes.sorted()
        return sorted[sorted.count / 2]
    }

    /// Work represented by one header with these bits.
    mutating func work(bits: UInt32) -> UInt256 {
        if workCache.bits != bits { workCache = (bits, UInt256.work(target: UInt256.decodeCompact(bits).target)) }
        return workCache.work
    }

    /// Verifies `header` as the next block and makes it the tip.
    public mutating func append(_ header: BlockHeader) throws(BitcoinError) {
        let height = tipHeight + 1
        guard header.previousBlockHash == tipHash else { throw .brokenChain(height: height) }
        let hash = header.hash
        guard parameters.checkProofOfWork(hash: hash, bits: header.bits) else { throw .insufficientProofOfWork(height: height) }
        let expected = expectedBits(forTime: header.time)
        guard header.bits == expected else { throw .unexpectedDifficulty(height: height, expected: expected, found: header.bits) }
        guard header.time > medianTimePast else { throw .timestampTooEarly(height: height) }
        tipHash = hash
        tipHeight = height
        tipBits = header.bits
        tipTime = header.time
        chainWork = chainWork &+ work(bits: header.bits)
        if height % parameters.retargetInterval == 0 { periodStartTime = header.time }
        if height % parameters.retargetInterval == 0 || header.bits != parameters.powLimitBits { lastNormalBits = header.bits }
        recentTimes.append(header.time)
        if recentTimes.count > 11 { recentTimes.removeFirst() }
    }

    /// Verifies a run of headers; on failure the verifier is left at the last good header.
    public mutating func append(contentsOf headers: [BlockHeader]) throws(BitcoinError) {
        guard headers.count <= Limits.headersPerVerificationMax else {
            throw .oversize(field: "headers", count: headers.count, limit: Limits.headersPerVerificationMax)
        }
        for h in headers { try append(h) }
    }
}
