/// Why a packet, message, certificate or piece of evidence was refused. Bad input from a peer never throws out of
/// `Replica.receive`; it becomes a `.rejected` effect carrying one of these.
public enum ConsensusError: Error, Hashable, Sendable {
    /// The bytes ended before the structure did.
    case truncated
    /// Bytes were left over after a complete structure.
    case trailingBytes(Int)
    /// The version byte is not one this code understands.
    case unknownVersion(UInt8)
    /// The kind byte names no known message.
    case unknownKind(UInt8)
    /// The input is larger than the named limit allows.
    case oversize(Int)
    /// A round is beyond `Limits.roundMax`, or a proposal's valid round is not below its round.
    case invalidRound
    /// Height zero is genesis and is never voted on.
    case invalidHeight
    /// A flag byte held something other than 0 or 1.
    case invalidFlag(UInt8)
    /// The signer field is not a valid compressed secp256k1 public key.
    case invalidSigner
    /// The signer is not a member of the validator set for that height.
    case unknownSigner
    /// The signature is malformed or does not verify over the exact bytes received.
    case badSignature
    /// A certificate holds fewer distinct validators' precommits than a quorum.
    case insufficientQuorum(have: Int, need: Int)
    /// A certificate contains a precommit for another height, round or value, or a duplicate signer.
    case inconsistentCertificate
    /// Evidence does not show misbehaviour: the messages are equal, from different signers, or for different slots.
    case notMisbehaviour
    /// A byte-level WAL holds a record at this offset that is complete but does not check (checksum, encoding or
    /// length): damage, which recovery refuses rather than guesses at (a torn last record is not an error).
    case corruptWAL(offset: Int)
    /// A validator set is empty, too large, or lists a key twice.
    case invalidValidatorSet
}
