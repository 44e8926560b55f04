import Secp256k1

/// Why an MPC message, input or session was refused. Never carries secret values.
public enum MPCError: Error, Equatable, Sendable {
    /// The message names another session (a replay from elsewhere, or a routing bug).
    case wrongSession
    /// The sender is not a member of the committee that speaks in this round.
    case unknownSender(PartyIndex)
    /// A direct message that is addressed to another party.
    case wrongRecipient(PartyIndex)
    /// The message is for a round other than the current one: stale (already closed) or early.
    case unexpectedRound(expected: Int, got: Int)
    /// The payload kind does not belong to this round, or a direct message came where only broadcast is allowed.
    case unexpectedPayload(round: Int)
    /// Counts or sizes disagree with the session's parameters.
    case malformed(String)
    /// A second identical copy of a message already accepted.
    case duplicate
    /// The session's deadline has passed; it accepts nothing more.
    case sessionExpired
    /// The session has already produced its output or failed.
    case sessionFinished
    /// Key material, presignature or share from another epoch.
    case staleEpoch(expected: UInt64, got: UInt64)
    /// This presignature id has been used before: a second signature with it would leak the key.
    case presignatureAlreadyUsed(PresignatureID)
    /// Too few honest participants remain to finish (e.g. more than t silent).
    case insufficientParticipants(needed: Int, available: Int)
    /// Parameters that violate the protocol's bounds (n ≥ 3t + 1, sizes within `Limits`).
    case invalidParameters(String)
    /// Signature shares made for different presignatures, digests or epochs were offered to one combiner.
    case shareMismatch
    /// The combined signature did not verify against the public key and no culprit could be isolated.
    case signatureDidNotVerify
    /// A final self-check failed (the output does not match the public values): a bug, or more than t
    /// faulty members.
    case consistencyCheckFailed
    /// The encoding could not be decoded (truncated, trailing bytes, unknown version or tag, oversize).
    case decoding(String)
    /// This member holds no valid share from a dealer that stayed qualified (its own complaint was not in the
    /// agreed transcript in time). It cannot produce output for this session; others are unaffected.
    case missingShare(dealer: PartyIndex)
    /// The session stopped because a qualified dealer was proven to have dealt wrong shares after QUAL was
    /// fixed (see `Misbehaviour.invalidShares`); the culprits are named, nothing is output.
    case aborted(culprits: [PartyIndex])
    /// `signatureShare` was asked for a digest, id or epoch other than the presignature's assignment.
    case assignmentMismatch
}

/// A protocol violation, with the culprit named and enough context to re-check it from the broadcast
/// transcript (which every honest member holds in the same order).
public enum Misbehaviour: Equatable, Sendable, Hashable {
    /// Two different broadcasts for one round.
    case equivocation(culprit: PartyIndex, round: Int)
    /// Nothing received in a round where the party had to speak.
    case silent(culprit: PartyIndex, round: Int)
    /// A dealer's commitments have the wrong shape, a zero sharing's constant is not the identity, or (when
    /// resharing) the constant term is not the dealer's public key share.
    case invalidCommitment(culprit: PartyIndex)
    /// A dealer's encrypted shares to `complainer` do not decrypt or fail the dealer's commitments, as shown by
    /// the complainer's disclosed key.
    case invalidShares(culprit: PartyIndex, complainer: PartyIndex)
    /// More than t proven complaints name this dealer (GJKR: disqualified; > t disclosed shares would fix its
    /// secret).
    case tooManyComplaints(culprit: PartyIndex)
    /// GJKR phase 2: the dealer's Feldman values disagree with a share that matches its Pedersen commitment.
    case inconsistentFeldmanReveal(culprit: PartyIndex)
    /// A complaint whose disclosed key has no valid proof, or whose disclosed shares are in fact correct (or, in
    /// GJKR phase 2, a share that does not match the accused dealer's commitments).
    case falseComplaint(culprit: PartyIndex, dealer: PartyIndex)
    /// An opened value (a blinding share, or a product share) that is not what the commitments say.
    case invalidOpening(culprit: PartyIndex, instance: Int)
    /// A product proof that does not verify.
    case invalidProductProof(culprit: PartyIndex, instance: Int)
    /// A signature share that fails its public check.
    case invalidSignatureShare(culprit: PartyIndex)

    /// The party at fault.
    public var culprit: PartyIndex {
        switch self {
        case .equivocation(let c, _), .silent(let c, _), .invalidCommitment(let c),
            .invalidShares(let c, _), .tooManyComplaints(let c), .inconsistentFeldmanReveal(let c),
            .falseComplaint(let c, _),
            .invalidOpening(let c, _), .invalidProductProof(let c, _), .invalidSignatureShare(let c):
            return c
        }
    }
}
