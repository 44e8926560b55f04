import Crypto
import Secp256k1

/// Names one protocol run. Every message carries it, and every transcript hash includes it, so a message
/// or a proof from one session is useless in another.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Wraps 32 bytes.
    public init(bytes: [UInt8]) throws(MPCError) {
        guard bytes.count == 32 else { throw .decoding("session id must be 32 bytes") }
        self.bytes = bytes
    }

    /// SHA-256 of a purpose tag, the epoch and a label (e.g. a consensus height).
    public init(purpose: String, epoch: UInt64, label: String) {
        var hasher = SHA256()
        hasher.update(data: Array("darknode/mpc/session/v1".utf8))
        for part in [Array(purpose.utf8), Array(label.utf8)] {
            hasher.update(data: Wire.lengthPrefix(part.count))
            hasher.update(data: part)
        }
        hasher.update(data: (0..<8).map { UInt8((epoch >> (56 - 8 * UInt64($0))) & 0xFF) })
        bytes = Array(hasher.finalize())
    }

    public var description: String { "Session(\(Hex.encode(bytes.prefix(6))))" }
}

/// One protocol message. Every session message goes through the reliable broadcast (consensus), so every
/// honest member sees it, in the same order (shares travel encrypted inside `Dealing`). A recipient is used only
/// for a signature share sent to a combiner; sessions refuse messages that have one.
public struct MPCMessage: Sendable, Equatable {
    public let session: SessionID
    public let sender: PartyIndex
    public let recipient: PartyIndex?
    public let round: Int
    public let payload: MPCPayload
    /// SHA-256 of the bytes this message was decoded from (`MPCWire.decode`); nil for a message built locally.
    /// Two broadcasts of one sender and round with different digests are equivocation even if they decode alike.
    public let receivedDigest: [UInt8]?

    public init(
        session: SessionID, sender: PartyIndex, recipient: PartyIndex?, round: Int, payload: MPCPayload,
        receivedDigest: [UInt8]? = nil
    ) {
        self.session = session
        self.sender = sender
        self.recipient = recipient
        self.round = round
        self.payload = payload
        self.receivedDigest = receivedDigest
    }

    public var isBroadcast: Bool { recipient == nil }
}

/// A dealer's round-1 broadcast: commitments to every sharing it deals, and every receiver's shares encrypted
/// to that receiver's identity key (ECIES: an ephemeral key E = e·G, ECDH with the receiver's key, HKDF-SHA256,
/// ChaCha20-Poly1305; see `ShareEncryption`). Shares travel on the agreed broadcast, so a member that is late
/// still finds them there, and a complaint can be judged by everyone from a disclosed key (`ShareDisclosure`)
/// without any share being published in the clear.
public struct Dealing: Sendable, Equatable {
    public let commitments: [[Point]]
    /// E = e·G, fresh per dealing.
    public let ephemeralKey: Point
    /// One ciphertext per receiver, in receiver order.
    public let ciphertexts: [[UInt8]]

    public init(commitments: [[Point]], ephemeralKey: Point, ciphertexts: [[UInt8]]) {
        self.commitments = commitments
        self.ephemeralKey = ephemeralKey
        self.ciphertexts = ciphertexts
    }
}

/// A complaint that proves itself: the complainer discloses the ECDH point S = sk·E of one dealer's ciphertext
/// to it, with a Chaum–Pedersen proof that S uses its identity key. Everyone then decrypts that one ciphertext
/// and checks the shares against the dealer's commitments: bad shares disqualify the dealer, good ones name the
/// complainer (false complaint). S is specific to this dealing's ephemeral key, so nothing else is exposed; and
/// an honest complainer only discloses shares from a cheating dealer, which the adversary had already.
/// (ETHDKG, Schindler et al. 2019, disputes shares the same way.)
public struct ShareDisclosure: Sendable, Equatable {
    public let dealer: PartyIndex
    public let sharedPoint: Point
    public let proof: EqualityProof

    public init(dealer: PartyIndex, sharedPoint: Point, proof: EqualityProof) {
        self.dealer = dealer
        self.sharedPoint = sharedPoint
        self.proof = proof
    }
}

/// GJKR phase-2 complaint: a share that matches the dealer's Pedersen commitment but not its Feldman values.
public struct RevealComplaint: Sendable, Equatable {
    public let dealer: PartyIndex
    public let share: VerifiableShare
}

/// A party's shares of a disqualified-in-phase-2 dealer, published so that its polynomial can be rebuilt.
public struct ReconstructionShare: Sendable, Equatable {
    public let dealer: PartyIndex
    public let share: VerifiableShare
}

/// What a party publishes for one presignature instance in the opening round (see `PresignSession`).
public struct PresignOpening: Sendable, Equatable {
    /// Blinding share of [k]: with all of them, R = C_k(0) − ρ(0)·H (RZL's RKPG).
    public let nonceBlinding: Scalar
    /// u_i = k_i·b_i + z_i and its blinding: a share of the degree-2t sharing of w = k·b (RZL MulOpen).
    public let maskedProduct: VerifiableShare
    /// M_i = k_i b_i·G + τ_i·H, and the proof that it commits to the product of C_k(i) and C_b(i).
    public let productCommitment: Point
    public let productProof: ProductProof
    /// P'_i = b_i x_i·G + τ'_i·H, and the proof that it commits to the product of C_b(i) and X_i.
    public let keyProductCommitment: Point
    public let keyProductProof: ProductProof
}

/// Every payload kind, by protocol step.
public enum MPCPayload: Sendable, Equatable {
    /// Broadcast: a dealer's commitments and encrypted shares.
    case dealing(Dealing)
    /// Broadcast: proven complaints against dealers whose shares failed for the sender (empty when all were good).
    case complaints([ShareDisclosure])
    /// Broadcast (GJKR phase 2): a dealer's Feldman values a_j·G.
    case feldmanReveal([Point])
    /// Broadcast (GJKR phase 2): shares proving a dealer's Feldman values wrong (empty when none).
    case revealComplaints([RevealComplaint])
    /// Broadcast (GJKR phase 2): shares of dealers whose polynomials must be rebuilt in public.
    case reconstruction([ReconstructionShare])
    /// Broadcast: one opening per presignature instance.
    case presignOpenings([PresignOpening])
    /// Broadcast (presignatures, instead of openings): proof that a qualified dealer's shares to the sender are
    /// wrong, found only after QUAL shrank (cancelling errors); the batch then aborts naming that dealer.
    case shareEvidence([ShareDisclosure])
    /// Broadcast: the sender's round timer for `round` fired. A round closes for everyone at the agreed point
    /// where t + 1 such votes (so at least one honest member's) have been delivered, unless every expected
    /// message was delivered before.
    case roundTimeout
    /// To the combiner (or broadcast): one signature share.
    case signatureShare(SignatureShare)
}

/// Where a session stands.
public enum SessionStatus: Equatable, Sendable {
    case running
    case finished
    case failed(MPCError)
}

/// Timing of a session, in the member's own clock (virtual time in simulations). `roundTimeout` after entering a
/// round, a member broadcasts a `roundTimeout` vote; the round itself closes at an agreed point of the broadcast
/// order (see `ReliableBroadcast`), never on a local timer. A session still running after `sessionTimeout` fails
/// with `sessionExpired` (a local decision to give up, not an input to QUAL).
public struct SessionTiming: Sendable, Equatable {
    public var roundTimeout: Duration
    public var sessionTimeout: Duration

    public init(roundTimeout: Duration = .seconds(5), sessionTimeout: Duration = .seconds(120)) {
        self.roundTimeout = roundTimeout
        self.sessionTimeout = sessionTimeout
    }
}

/// The common shape of the MPC state machines: messages in, messages out, no I/O, time as a parameter.
public protocol MPCSession {
    var sessionID: SessionID { get }
    /// Who this party is in the messages it sends (its index in the committee that speaks in this round).
    var status: SessionStatus { get }
    /// Every violation seen so far, each naming its culprit.
    var misbehaviour: [Misbehaviour] { get }
    /// First messages; `now` starts the clocks.
    mutating func start(now: Duration) -> [MPCMessage]
    /// Takes one message, broadcasts in the agreed order. Malformed, stale and out-of-session messages are
    /// refused with a typed error and change nothing. A round closes inside `handle`, at the delivery that
    /// completes it (every expected broadcast, or t + 1 timeout votes), so every honest member closes it at the
    /// same point of the order and computes the same QUAL.
    mutating func handle(_ message: MPCMessage, now: Duration) throws(MPCError)
    /// Returns the messages produced by rounds that closed since the last call, plus this member's timeout vote
    /// once its own clock says the round has run `roundTimeout`.
    mutating func tick(now: Duration) -> [MPCMessage]
}

/// The reliable broadcast that MPC sessions need and that the node provides with consensus: every message
/// broadcast by a member is delivered to every honest member, and every reader gets the same sequence (readers
/// may lag, but never see a different order). Rounds close at points of this sequence (all expected inputs, or
/// t + 1 timeout votes), so dealer sets (GJKR's QUAL) are a deterministic function of the delivered prefix and
/// honest members agree on them without a separate agreement step, whatever their clocks say.
public protocol ReliableBroadcast {
    /// Submits a broadcast message for ordering.
    mutating func submit(_ message: MPCMessage)
    /// The next message in the agreed order for `reader`, if it has arrived there.
    mutating func nextDelivery(to reader: Int) -> MPCMessage?
}
