import Consensus

/// Builds the next block from candidate transactions: each is tried on a scratch copy of the state in the given
/// order and kept only if valid there and if it fits the byte budget, so an honest proposer never proposes a block
/// its peers would refuse. Refused candidates come back with their reasons (the mempool drops them).
public enum BlockBuilder {
    public struct Result: Sendable {
        public let block: ShardBlock
        public let refused: [(transaction: ShardTransaction, reason: ShardError)]
        /// Candidates that were valid but did not fit; they stay in the mempool for a later block.
        public let deferred: [ShardTransaction]
    }

    public static func build(on state: ShardState, candidates: [ShardTransaction], byteBudget: Int = Consensus.Limits.valueBytesMax) -> Result {
        var scratch = state
        var chosen: [ShardTransaction] = []
        var refused: [(ShardTransaction, ShardError)] = []
        var deferred: [ShardTransaction] = []
        var bytes = 128
        for tx in candidates {
            let size = tx.encoded.count + 4
            guard chosen.count < ShardLimits.transactionsPerBlockMax, bytes + size <= byteBudget else {
                deferred.append(tx)
                continue
            }
            do {
                _ = try scratch.applyCandidate(tx)
                chosen.append(tx)
                bytes += size
            } catch {
                refused.append((tx, error))
            }
        }
        let block = ShardBlock(height: state.height + 1, previousHash: state.lastBlockHash, epoch: state.epoch,
                               stateRoot: state.root, transactions: chosen)
        return Result(block: block, refused: refused.map { (transaction: $0.0, reason: $0.1) }, deferred: deferred)
    }
}
