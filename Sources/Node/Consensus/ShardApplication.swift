import Consensus
import Shard

/// A block consensus decided, with what applying it did.
public struct DecidedBlock: Sendable {
    public let certificate: CommitCertificate
    public let block: ShardBlock
    public let events: [ShardEvent]
}

/// Consensus's application: the proposer builds the next block from the mempool, every replica judges a proposal
/// by the shard's rules (plus the node's local checks), and a decided block is applied to the state. Decided blocks
/// wait in `decided` until the runtime has made them durable.
public struct ShardApplication: ConsensusApplication, Sendable {
    public private(set) var state: ShardState
    public var mempool: Mempool
    public private(set) var decided: [DecidedBlock] = []
    /// A decided block the rules refuse: a quorum signed something invalid, which needs more than f faulty
    /// members. The node stops rather than diverge.
    public private(set) var fatal: String?
    /// Checks only this node can make (e.g. that a registered shard key is the one its key generation produced).
    /// Validity need not be uniform across replicas (Tendermint only needs honest proposals valid for honest replicas).
    public var localCheck: @Sendable (ShardTransaction, ShardState) -> Bool = { _, _ in true }

    public init(state: ShardState, mempool: Mempool = Mempool()) {
        self.state = state
        self.mempool = mempool
    }

    public mutating func propose(height: Height, round: Round) -> Value {
        let candidates = mempool.candidates().filter { localCheck($0, state) }
        let built = BlockBuilder.build(on: state, candidates: candidates)
        mempool.remove(built.refused.map(\.transaction.id))
        return Value(built.block.encoded)
    }

    public func isValid(_ value: Value, height: Height) -> Bool {
        guard let block = try? ShardBlock(decoding: value.bytes), block.height == height else { return false }
        guard block.transactions.allSatisfy({ localCheck($0, state) }) else { return false }
        return (try? state.validate(block)) != nil
    }

    /// A certified block is judged by the shard's rules alone: the local checks (e.g. "this is the key my key generation
    /// produced") were made by the 2f + 1 that precommitted it, and a member that restarted without its key share must
    /// still follow the chain.
    public func isDecidable(_ value: Value, height: Height) -> Bool {
        guard let block = try? ShardBlock(decoding: value.bytes), block.height == height else { return false }
        return (try? state.validate(block)) != nil
    }

    public mutating func commit(_ certificate: CommitCertificate) -> ValidatorSet? {
        do {
            let block = try ShardBlock(decoding: certificate.value.bytes)
            let events = try state.apply(block)
            mempool.remove(block.transactions.map(\.id))
            decided.append(DecidedBlock(certificate: certificate, block: block, events: events))
        } catch {
            fatal = "decided block \(certificate.height) is invalid: \(error)"
        }
        return nil
    }

    /// Hands the decided blocks to the caller (the runtime persists them) and forgets them here.
    public mutating func drainDecided() -> [DecidedBlock] {
        defer { decided = [] }
        return decided
    }

    /// Replaces the state when blocks are applied outside consensus (restore from disk).
    public mutating func restore(_ state: ShardState) { self.state = state }
}
