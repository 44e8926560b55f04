import Consensus
import Secp256k1

/// The rollback anchor at consensus height (docs/enclave.md, "Rollback at consensus height").
///
/// A node's sealed store can be replaced by the host with an older, authentic copy; every check inside the store
/// passes, and a node started on it would sign again at heights and rounds it had already signed at. Its peers
/// remember, per member, the highest consensus message (proposal or vote) they saw that member sign. At start a node
/// asks them, and the answer proves itself: only this node's enclave holds the key that signed it. A store that does
/// not account for that message — its decided height is below the message's height and its write-ahead log does not
/// hold it — was rolled back, and the node refuses to start.
struct SignedMessageMemory {
    /// Committee members by compressed key; only their messages are remembered (the table has one row per member).
    private let members: [[UInt8]: PublicKey]
    private var highest: [[UInt8]: SignedMessage] = [:]

    init(committee: [PublicKey]) {
        members = Dictionary(committee.map { ($0.compressed, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Orders a member's messages: later height, then later round, then later step.
    static func position(_ m: SignedMessage) -> (Height, Round, UInt8) {
        (m.message.height, m.message.round, m.message.step.rawValue)
    }

    /// Remembers a consensus packet's message when it is a member's, later than what is remembered for that member,
    /// and validly signed by it (checked only then: about one signature check per member and step).
    mutating func observe(_ packet: [UInt8]) {
        guard packet.count >= 2, packet[1] != MessageKind.certificate.rawValue,
              let message = try? SignedMessage.decode(packet[...]), let key = members[message.signer.compressed]
        else { return }
        if let known = highest[message.signer.compressed], !(Self.position(known) < Self.position(message)) { return }
        guard message.isSignedBy(key) else { return }
        highest[message.signer.compressed] = message
    }

    /// The answer to `member`'s question: the wire bytes of the highest message seen signed by it, or nothing.
    func answer(for member: [UInt8]) -> [UInt8] {
        highest[member]?.wireBytes ?? []
    }
}

/// Why a node refuses to run on its store: a peer holds a consensus message this node signed that the store does
/// not account for.
public struct StoreRolledBack: Error, Equatable, Sendable, CustomStringConvertible {
    public let decidedHeight: Height
    public let signedHeight: Height
    public let signedRound: Round
    public let signedStep: String
    /// The peer (compressed identity key) whose answer proved it.
    public let witness: [UInt8]

    public var description: String {
        "sealed store rolled back: a peer holds a message this node signed at height \(signedHeight) round \(signedRound) "
            + "(\(signedStep)), which the store (decided height \(decidedHeight), write-ahead log) does not hold; "
            + "refusing to sign on it (witness \(Hex.encode(witness)))"
    }

    /// Whether a store that decided up to `decidedHeight` and whose write-ahead log holds `logged` accounts for
    /// `proof`, a message this node signed. Every message a node signs is in its log before it leaves, and stays there
    /// until its height is decided and recorded, so an intact store always does.
    static func check(proof: SignedMessage, decidedHeight: Height, logged: [SignedMessage], witness: [UInt8]) -> StoreRolledBack? {
        if proof.message.height <= decidedHeight { return nil }
        if logged.contains(where: { $0.signedBytes == proof.signedBytes }) { return nil }
        return StoreRolledBack(decidedHeight: decidedHeight, signedHeight: proof.message.height, signedRound: proof.message.round,
                               signedStep: proof.message.step.description, witness: witness)
    }
}
