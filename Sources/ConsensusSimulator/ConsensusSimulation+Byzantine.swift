import Consensus
import SimulationKit
import Secp256k1

// Byzantine nodes run an honest process (so they keep the protocol's pace and see what happens) and rewrite what
// it sends, signing anything they like with their own key (CometBFT `consensus/byzantine_test.go`).
extension ConsensusSimulation {
    mutating func carryOutByzantine(_ effects: [ReplicaEffect], node i: Int) {
        guard let behaviour = nodes[i].behaviour else { return }
        for effect in effects {
            switch effect {
            case .schedule(let t, let after):
                network.setTimer(.consensus(t), node: i, after: after)
            case .send(let packet, let key):
                guard behaviour != .silent && behaviour != .lockTrap else { continue }
                if let to = keyIndex[key] { network.send(packet, from: i, to: to) }
            case .broadcast(let packet):
                guard behaviour != .silent, let m = try? SignedMessage.decode(packet[...]) else { continue }
                if m.signer == nodes[i].signer.key {
                    misbehave(m, behaviour, node: i)
                } else if behaviour != .lockTrap {
                    network.broadcast(packet, from: i)
                }
            case .persist, .commit, .evidence, .rejected:
                continue
            }
        }
    }

    mutating func observeProposal(_ packet: [UInt8], node i: Int) {
        guard packet.count > 1, packet[1] == MessageKind.proposal.rawValue,
            let m = try? SignedMessage.decode(packet[...]), case .proposal(let p) = m.message
        else { return }
        let key = SlotKey(height: p.height, round: p.round)
        if !(nodes[i].proposalsSeen[key]?.contains(p.value) ?? false) {
            nodes[i].proposalsSeen[key, default: []].append(p.value)
            if nodes[i].behaviour == .lockTrap && p.round > 0 {
                for step in [VoteStep.prevote, .precommit] {
                    let vote = Vote(step: step, height: p.height, round: p.round, valueID: p.value.id)
                    network.broadcast(SignedMessage.sign(.vote(vote), with: nodes[i].signer).wireBytes, from: i)
                }
            }
        }
        // Bounded: forget heights well behind.
        if nodes[i].proposalsSeen.count > 256 {
            nodes[i].proposalsSeen = nodes[i].proposalsSeen.filter { $0.key.height + 2 >= p.height }
        }
    }

    mutating func misbehave(_ m: SignedMessage, _ behaviour: ByzantineBehaviour, node i: Int) {
        let signer = nodes[i].signer
        switch behaviour {
        case .silent:
            return
        case .equivocate:
            let other = SignedMessage.sign(conflicting(m.message, node: i), with: signer)
            for to in 0..<nodes.count where to != i {
                network.send(rng.chance(Ratio(1, 2)) ? m.wireBytes : other.wireBytes, from: i, to: to)
            }
        case .invalidValues:
            let bad = invalidValue(height: m.message.height, round: m.message.round, node: i)
            let rewritten: ConsensusMessage
            switch m.message {
            case .proposal(let p):
                rewritten = .proposal(Proposal(height: p.height, round: p.round, validRound: p.validRound, value: bad))
            case .vote(let v):
                rewritten = .vote(Vote(step: v.step, height: v.height, round: v.round, valueID: bad.id))
            }
            network.broadcast(SignedMessage.sign(rewritten, with: signer).wireBytes, from: i)
        case .garbage:
            network.broadcast(m.wireBytes, from: i)
            for to in 0..<nodes.count where to != i && rng.chance(Ratio(1, 2)) {
                network.send(garbage(from: m.wireBytes), from: i, to: to)
            }
        case .promiscuous:
            network.broadcast(m.wireBytes, from: i)
            guard case .vote(let v) = m.message else { return }
            let seen = nodes[i].proposalsSeen[SlotKey(height: v.height, round: v.round)] ?? []
            let ids: [ValueID?] = [nil] + seen.map(\.id)
            for id in ids where id != v.valueID {
                let extra = Vote(step: v.step, height: v.height, round: v.round, valueID: id)
                network.broadcast(SignedMessage.sign(.vote(extra), with: signer).wireBytes, from: i)
            }
        case .lockTrap:
            // Later rounds: proposals are backed as they are seen (observeProposal).
            guard m.message.round == 0 else { return }
            let h = m.message.height
            let next = configuration.scheduler.proposer(height: h, round: 1, validators: validators)
            let favourite = (0..<nodes.count).first { $0 != i && $0 != next }
            let isPrecommit = m.message.step == .precommit
            let other = SignedMessage.sign(conflicting(m.message, node: i), with: signer)
            for to in 0..<nodes.count where to != i {
                let original = isPrecommit ? to == favourite : to != next
                network.send(original ? m.wireBytes : other.wireBytes, from: i, to: to)
            }
        case .flood:
            network.broadcast(m.wireBytes, from: i)
            flood(after: m, node: i)
        case .forge:
            network.broadcast(m.wireBytes, from: i)
            forge(after: m, node: i)
        }
    }

    /// Four extra packets per message (five with a precommit) the forger sends, most of them signed by keys outside the validator set.
    mutating func forge(after m: SignedMessage, node i: Int) {
        let h = m.message.height
        let r = m.message.round
        let outsider = outsiders[rng.index(outsiders.count)]
        func fresh(_ height: Height, _ round: Round) -> Value {
            SimulatedValues.make(tag: SimulatedValues.validTag, height: height, proposer: i, round: round, nonce: rng.next())
        }
        var packets: [[UInt8]] = []
        // With each precommit (a quorum of signatures is costly to make), a commit certificate for a value nobody
        // proposed: its own precommit and outsiders' up to a quorum. Counting any outsider would let it through, and
        // honest nodes would decide two values at height h.
        if m.message.step == .precommit {
            let value = fresh(h, r)
            let precommit = ConsensusMessage.vote(Vote(step: .precommit, height: h, round: r, valueID: value.id))
            let signers = [nodes[i].signer] + outsiders.prefix(validators.quorum - 1)
            packets.append(CommitCertificate(height: h, round: r, value: value,
                                             precommits: signers.map { SignedMessage.sign(precommit, with: $0) }).encoded)
        }
        // An outsider's proposal for this height and round, and one for a buffered future height.
        packets.append(SignedMessage.sign(.proposal(Proposal(height: h, round: r, validRound: nil, value: fresh(h, r))),
                                          with: outsider).wireBytes)
        let ahead = h + 1 + UInt64(rng.index(Int(Limits.futureHeightsMax)))
        packets.append(SignedMessage.sign(.vote(Vote(step: .precommit, height: ahead, round: 0, valueID: fresh(ahead, 0).id)),
                                          with: outsider).wireBytes)
        // Its own votes past the buffered window, and far-ahead rounds of a buffered future height.
        let beyond = h + Limits.futureHeightsMax + 1 + UInt64(rng.index(100))
        packets.append(SignedMessage.sign(.vote(Vote(step: .prevote, height: beyond, round: 0, valueID: nil)),
                                          with: nodes[i].signer).wireBytes)
        let farRound = min(Limits.roundsAheadStoredMax + 1 + Round(rng.index(10_000)), Limits.roundMax)
        packets.append(SignedMessage.sign(.vote(Vote(step: .prevote, height: ahead, round: farRound, valueID: nil)),
                                          with: nodes[i].signer).wireBytes)
        for packet in packets { network.broadcast(packet, from: i) }
    }

    /// Six extra packets per message the flooder sends (bounded, so runs stay cheap).
    mutating func flood(after m: SignedMessage, node i: Int) {
        let signer = nodes[i].signer
        let h = m.message.height
        let r = m.message.round
        func randomID(_ height: Height, _ round: Round) -> ValueID {
            SimulatedValues.make(tag: SimulatedValues.validTag, height: height, proposer: i, round: round, nonce: rng.next()).id
        }
        var packets: [[UInt8]] = []
        for _ in 0..<3 {
            let height = h + 1 + UInt64(rng.index(Int(Limits.futureHeightsMax)))
            let round = Round(rng.index(64))
            let step: VoteStep = rng.chance(Ratio(1, 2)) ? .prevote : .precommit
            packets.append(SignedMessage.sign(.vote(Vote(step: step, height: height, round: round,
                                                         valueID: randomID(height, round))), with: signer).wireBytes)
        }
        let futureValue = SimulatedValues.make(tag: SimulatedValues.validTag, height: h + 1, proposer: i, round: r,
                                               nonce: rng.next())
        packets.append(SignedMessage.sign(.proposal(Proposal(height: h + 1, round: Round(rng.index(64)), validRound: nil,
                                                             value: futureValue)), with: signer).wireBytes)
        let far = min(r + Limits.roundsAheadStoredMax + 1 + Round(rng.index(1_000)), Limits.roundMax)
        packets.append(SignedMessage.sign(.vote(Vote(step: .precommit, height: h, round: far, valueID: nil)),
                                          with: signer).wireBytes)
        let outsider = Secp256k1Signer(privateKey: .generate(using: &rng))
        let outsiderHeight = h + UInt64(rng.index(2))
        packets.append(SignedMessage.sign(.vote(Vote(step: .prevote, height: outsiderHeight, round: r, valueID: nil)),
                                          with: outsider).wireBytes)
        for packet in packets { network.broadcast(packet, from: i) }
    }

    /// A different message for the same (height, round, step).
    mutating func conflicting(_ message: ConsensusMessage, node i: Int) -> ConsensusMessage {
        switch message {
        case .proposal(let p):
            let other = SimulatedValues.make(tag: SimulatedValues.validTag, height: p.height, proposer: i, round: p.round,
                                             nonce: rng.next())
            return .proposal(Proposal(height: p.height, round: p.round, validRound: p.validRound, value: other))
        case .vote(let v):
            let seen = nodes[i].proposalsSeen[SlotKey(height: v.height, round: v.round)] ?? []
            let id: ValueID? =
                v.valueID != nil ? nil
                : (seen.first?.id
                    ?? SimulatedValues.make(tag: SimulatedValues.validTag, height: v.height, proposer: i, round: v.round,
                                            nonce: rng.next()).id)
            return .vote(Vote(step: v.step, height: v.height, round: v.round, valueID: id))
        }
    }

    func invalidValue(height: Height, round: Round, node i: Int) -> Value {
        SimulatedValues.make(tag: SimulatedValues.invalidTag, height: height, proposer: i, round: round, nonce: 0)
    }

    /// Random bytes, a copy with one byte flipped, a truncated copy, or a copy with trailing bytes.
    mutating func garbage(from packet: [UInt8]) -> [UInt8] {
        switch rng.index(4) {
        case 0:
            return (0..<rng.index(200)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 1:
            var copy = packet
            copy[rng.index(copy.count)] ^= UInt8.random(in: 1...255, using: &rng)
            return copy
        case 2:
            return Array(packet.prefix(rng.index(packet.count)))
        default:
            return packet + [UInt8.random(in: 0...255, using: &rng)]
        }
    }
}
