import Bitcoin
import Consensus

/// Every way a block or transaction can be refused by the shard's rules. Associated values name what was wrong
/// (heights, fields, hashes in hex); they never carry secrets. A refused block leaves the state unchanged.
public enum ShardError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: Encoding
    /// Bytes that do not decode to the named structure (truncated, a bad tag, trailing bytes, a bad key).
    case malformed(String)
    /// A count or length above its bound in `ShardLimits`.
    case oversize(field: String, count: Int, limit: Int)
    /// An encoding version this release does not know.
    case unknownVersion(UInt8)
    /// A transaction type this release does not know (or reserves for a later one, e.g. burns).
    case unknownTransactionType(UInt8)

    // MARK: Block linkage
    case wrongHeight(expected: UInt64, found: UInt64)
    case wrongPreviousHash
    case wrongEpoch(expected: UInt64, found: UInt64)
    case wrongStateRoot

    // MARK: Bitcoin header relay
    /// The headers do not attach to the relayed chain's tip or to a header inside the kept window.
    case headersDoNotAttach
    /// A fork that does not carry more accumulated work than the current relayed chain.
    case forkWithLessWork
    /// A header failed Bitcoin's rules (linkage, proof of work, difficulty, median time).
    case headerRejected(BitcoinError)

    // MARK: Mints
    /// The shard has no key yet (key generation not committed), so no gateway script exists.
    case noShardKey
    case shardKeyAlreadySet(epoch: UInt64)
    /// The deposit's block is not in the relayed header window.
    case depositBlockUnknown
    case insufficientConfirmations(required: Int, found: Int)
    /// The proof or the transaction does not show the deposit (merkle path, output index, script, 64-byte tx).
    case depositRejected(BitcoinError)
    case depositPaysAnotherScript
    case selectorNotServed
    case alreadyMinted(nHash: String)
    case outpointAlreadyKnown

    // MARK: Sweeps
    case sweepEmpty
    case sweepInputsNotSorted
    case coinNotSpendable(String)
    case sweepRejected(BitcoinError)
    case feeRateOutOfBounds(UInt64)

    // MARK: Presignatures and signatures
    case duplicatePresignature
    case unknownRequest
    case requestAlreadySigned
    case invalidSignature
    case presignatureNotAssigned
    case presignatureAssignedElsewhere
    case digestMismatch

    // MARK: MPC broadcasts
    case notACommitteeMember(UInt16)
    case mpcSlotTaken
    case mpcSignatureInvalid

    // MARK: Misbehaviour
    case evidenceRejected(ConsensusError)
    case evidenceAlreadyRecorded

    public var description: String {
        switch self {
        case .malformed(let why): "malformed: \(why)"
        case .oversize(let field, let count, let limit): "\(field): \(count) exceeds \(limit)"
        case .unknownVersion(let v): "unknown encoding version \(v)"
        case .unknownTransactionType(let t): "unknown transaction type \(t)"
        case .wrongHeight(let e, let f): "block height \(f), expected \(e)"
        case .wrongPreviousHash: "previous-block hash does not match"
        case .wrongEpoch(let e, let f): "block epoch \(f), expected \(e)"
        case .wrongStateRoot: "state root does not match"
        case .headersDoNotAttach: "headers do not attach to the relayed chain"
        case .forkWithLessWork: "fork does not carry more work than the relayed chain"
        case .headerRejected(let e): "header rejected: \(e)"
        case .noShardKey: "the shard has no key yet"
        case .shardKeyAlreadySet(let epoch): "shard key already set for epoch \(epoch)"
        case .depositBlockUnknown: "deposit block not in the relayed header window"
        case .insufficientConfirmations(let r, let f): "deposit has \(f) confirmations, needs \(r)"
        case .depositRejected(let e): "deposit proof rejected: \(e)"
        case .depositPaysAnotherScript: "deposit output does not pay the gateway script of its gHash"
        case .selectorNotServed: "this shard does not serve the selector (sHash)"
        case .alreadyMinted(let n): "nHash \(n) already minted"
        case .outpointAlreadyKnown: "deposit outpoint already in custody"
        case .sweepEmpty: "sweep spends nothing"
        case .sweepInputsNotSorted: "sweep inputs must be sorted and distinct"
        case .coinNotSpendable(let o): "coin \(o) is not a spendable custody output"
        case .sweepRejected(let e): "sweep transaction rejected: \(e)"
        case .feeRateOutOfBounds(let r): "fee rate \(r) sat/vB outside the shard's bounds"
        case .duplicatePresignature: "presignature id registered twice"
        case .unknownRequest: "no committed signing request with that id"
        case .requestAlreadySigned: "request already signed"
        case .invalidSignature: "signature does not verify under the shard key"
        case .presignatureNotAssigned: "presignature not assigned to any committed request"
        case .presignatureAssignedElsewhere: "presignature assigned to another request"
        case .digestMismatch: "digest differs from the committed request's"
        case .notACommitteeMember(let i): "sender \(i) is not a committee member"
        case .mpcSlotTaken: "this (session, sender, round) already carries a broadcast"
        case .mpcSignatureInvalid: "MPC broadcast is not signed by its sender"
        case .evidenceRejected(let e): "misbehaviour evidence rejected: \(e)"
        case .evidenceAlreadyRecorded: "misbehaviour already recorded"
        }
    }
}
