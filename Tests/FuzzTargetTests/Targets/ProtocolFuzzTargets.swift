import Crypto
import Foundation
import Secp256k1

@testable import Consensus
@testable import MPC
import MPCSimulator

/// Consensus packets (signed messages, commit certificates, misbehaviour evidence, WAL entries) and MPC messages.
enum ProtocolFuzzTargets {
    static let builders: [FuzzTargetBuilder] = [
        ("consensus-message", { _ in try consensusMessage() }),
        ("consensus-evidence", { _ in try consensusEvidence() }),
        ("mpc-message", { _ in try mpcMessage() }),
    ]

    /// Four validators with fixed keys and their honestly signed messages of one height.
    struct Committee {
        let keys: [PrivateKey]
        let validators: ValidatorSet
        let messages: [SignedMessage]

        init() throws {
            keys = try (1...4).map { try PrivateKey(bytes: [UInt8](repeating: 0x30 + UInt8($0), count: 32)) }
            validators = try ValidatorSet(keys: keys.map(\.publicKey))
            let value = Value(Array("block at height 9".utf8))
            let other = Value(Array("another block".utf8))
            var messages: [SignedMessage] = []
            for (i, key) in keys.enumerated() {
                let signer = Secp256k1Signer(privateKey: key)
                messages.append(.sign(.proposal(Proposal(height: 9, round: UInt32(i), validRound: i == 2 ? 1 : nil, value: value)), with: signer))
                messages.append(.sign(.vote(Vote(step: .prevote, height: 9, round: 0, valueID: ValueID(of: value))), with: signer))
                messages.append(.sign(.vote(Vote(step: .precommit, height: 9, round: 0, valueID: i == 3 ? nil : ValueID(of: value))), with: signer))
                messages.append(.sign(.vote(Vote(step: .precommit, height: 9, round: 1, valueID: ValueID(of: other))), with: signer))
            }
            self.messages = messages
        }
    }

    /// A decoded message re-encodes to exactly the bytes it was decoded from, and one that verifies is a genuine one.
    static func consensusMessage() throws -> FuzzTarget {
        let committee = try Committee()
        let genuine = Set(committee.messages.map(\.wireBytes))
        let verifier = Secp256k1Verifier()
        return FuzzTarget(name: "consensus-message", seeds: committee.messages.map(\.wireBytes)) { wire throws(FuzzFinding) in
            guard let message = try? SignedMessage.decode(wire[...]) else { return }
            guard SignedMessage.encode(message.message, signer: message.signer) == message.signedBytes else {
                throw FuzzFinding(target: "consensus-message", detail: "a decoded message does not re-encode to its signed bytes")
            }
            if (try? committee.validators.verify(message, with: verifier)) != nil, !genuine.contains(message.wireBytes) {
                // A second valid signature for the same bytes is possible only by the key holder (ECDSA malleability is
                // refused: signatures are lower-S); the seeds are the only signed messages.
                throw FuzzFinding(target: "consensus-message", detail: "a message that was never signed verified")
            }
        }
    }

    /// The first byte chooses the structure: 0 commit certificate, 1 misbehaviour evidence, 2 WAL entry.
    static func consensusEvidence() throws -> FuzzTarget {
        let committee = try Committee()
        let m = committee.messages
        let precommits = stride(from: 2, to: m.count, by: 4).prefix(3).map { m[$0] }
        let certificate = CommitCertificate(height: 9, round: 0, value: Value(Array("block at height 9".utf8)), precommits: precommits)
        let double = Misbehaviour.conflict(m[2], m[3]).map(\.encoded) ?? []
        let outOfTurn = Misbehaviour.outOfTurnPropose(m[0]).encoded
        let wal: [WALEntry] = [
            .signed(m[1]), .locked(height: 9, RoundValue(value: Value([1, 2, 3]), round: 0)),
            .valid(height: 9, RoundValue(value: Value([1, 2, 3]), round: 0)), .polka(height: 9, round: 0, prevotes: [m[1], m[5], m[9]]),
        ]
        let seeds = [[0] + certificate.encoded, [1] + double, [1] + outOfTurn] + wal.map { [2] + $0.encoded }
        let verifier = Secp256k1Verifier()
        return FuzzTarget(name: "consensus-evidence", seeds: seeds) { input throws(FuzzFinding) in
            guard let selector = input.first else { return }
            let body = Array(input.dropFirst())
            switch selector % 3 {
            case 0:
                guard let decoded = try? CommitCertificate.decode(body[...]) else { return }
                _ = try? decoded.verify(against: committee.validators, with: verifier)
            case 1:
                guard let decoded = try? Misbehaviour.decode(body[...]) else { return }
                _ = try? decoded.verify(validators: committee.validators, scheduler: RoundRobinScheduler(), with: verifier)
            default:
                guard let entry = try? WALEntry.decode(body) else { return }
                guard (try? WALEntry.decode(entry.encoded)) == entry else {
                    throw FuzzFinding(target: "consensus-evidence", detail: "a WAL entry does not survive re-encoding")
                }
            }
        }
    }

    /// Every payload kind from a real key generation (with a cheating dealer), presigning and resharing; a decoded
    /// message survives re-encoding unchanged.
    static func mpcMessage() throws -> FuzzTarget {
        var rng = FuzzSeedRNG(seed: 90)
        let parameters = try CommitteeParameters(size: 4, threshold: 1)
        let liar: (MPCMessage) -> [MPCMessage] = { message in
            guard case .feldmanReveal(let points) = message.payload else { return [message] }
            return [MPCMessage(session: message.session, sender: message.sender, recipient: nil, round: message.round,
                               payload: .feldmanReveal([points[0] + Point.generator] + points.dropFirst()))]
        }
        let keygen = try MPCSimulation.generateKey(parameters: parameters, rng: &rng, behaviours: [2: liar])
        let shares = keygen.sessions.compactMap(\.keyShare)
        let presign = try MPCSimulation.presign(keyShares: shares, count: 2, rng: &rng, behaviours: [3: { _ in [] }])
        let reshare = try MPCSimulation.reshare(oldShares: shares, newParameters: parameters, rng: &rng)
        var messages = keygen.transcript + presign.transcript + reshare.transcript
        messages.append(MPCMessage(
            session: SessionID(purpose: "sign", epoch: 3, label: "x"), sender: 2, recipient: 1, round: 1,
            payload: .signatureShare(SignatureShare(
                presignatureID: try PresignatureID(bytes: Array(repeating: 7, count: 32)), epoch: 3, signer: 2,
                digest: Array(repeating: 9, count: 32), value: Scalar(5), blinding: Scalar(6)))))
        // One seed per (payload kind, round): the transcripts repeat each shape once per member.
        var seen: Set<String> = []
        var seeds: [[UInt8]] = []
        for message in messages {
            let shape = "\(String(describing: message.payload).prefix { $0 != "(" }) \(message.round) \(message.recipient == nil)"
            if seen.insert(shape).inserted { seeds.append(MPCWire.encode(message)) }
        }
        return FuzzTarget(name: "mpc-message", seeds: seeds) { bytes throws(FuzzFinding) in
            guard let message = try? MPCWire.decode(bytes) else { return }
            guard message.receivedDigest == Array(SHA256.hash(data: bytes)) else {
                throw FuzzFinding(target: "mpc-message", detail: "the received digest is not of the received bytes")
            }
            guard let again = try? MPCWire.decode(MPCWire.encode(message)), again.payload == message.payload,
                again.session == message.session, again.sender == message.sender, again.recipient == message.recipient,
                again.round == message.round
            else { throw FuzzFinding(target: "mpc-message", detail: "a decoded message does not survive re-encoding") }
        }
    }
}
