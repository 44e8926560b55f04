import Consensus

// The checks run after every event: agreement and validity of decisions, one signature per slot for honest nodes
// (in their WAL, broadcasts and sends), and evidence that names only faulty nodes.
extension ConsensusSimulation {
    mutating func checkDecisions(node i: Int) {
        let disk = nodes[i].disk
        let first = nodes[i].decisionsChecked + 1
        guard disk.lastDecided >= first else { return }
        nodes[i].decisionsChecked = disk.lastDecided
        for h in first...disk.lastDecided {
            guard let c = disk.decisions[h] else { continue }
            if !SimulatedValues.isValid(c.value, height: h) { violations.append(.validity(height: h, node: i)) }
            if let earlier = decided[h] {
                if earlier != c.value {
                    violations.append(.agreement(height: h, node: i, value: c.value.description, earlier: earlier.description))
                }
            } else {
                decided[h] = c.value
            }
        }
    }

    /// The double-sign check for a packet a non-Byzantine node sends (certificates and relayed messages are not its
    /// signatures and are skipped).
    mutating func checkSignature(_ packet: [UInt8], node i: Int, in outlet: SignatureOutlet) {
        guard packet.count > 1, packet[1] != MessageKind.certificate.rawValue,
            let m = try? SignedMessage.decode(packet[...])
        else { return }
        checkSignature(m, node: i, in: outlet)
    }

    /// Every message a non-Byzantine node signs — appended to its WAL, broadcast or sent to one peer — is compared
    /// with the first one it signed for that (height, round, step), across restarts. A rolled-back node counted as
    /// faulty is expected to sign twice: that is counted (`faultyDoubleSigns`), not a violation.
    mutating func checkSignature(_ m: SignedMessage, node i: Int, in outlet: SignatureOutlet) {
        guard m.signer == nodes[i].signer.key else { return }
        let key = SignKey(signer: m.signer, height: m.message.height, round: m.message.round, step: m.message.step)
        guard let earlier = honestSignatures[key] else {
            honestSignatures[key] = m
            return
        }
        guard earlier.message != m.message, doubleSignsReported.insert(key).inserted else { return }
        if isHonest(i) {
            violations.append(.doubleSign(node: i, first: earlier.description, second: m.description, seenIn: outlet))
        } else {
            faultyDoubleSigns += 1
        }
    }

    mutating func checkEvidence(_ e: Misbehaviour, node i: Int) {
        evidenceReported += 1
        let verifies = (try? e.verify(validators: validators, scheduler: configuration.scheduler, with: verifier)) != nil
        let offender = keyIndex[e.offender]
        if !verifies || offender.map(isHonest) ?? true {
            violations.append(.falseEvidence(node: i, evidence: e.description))
        }
    }
}
