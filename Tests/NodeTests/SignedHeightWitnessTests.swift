import Consensus
import Secp256k1
import Testing
@testable import Node

/// The rollback check at consensus height (docs/enclave.md): which answers prove a store rolled back, and what a
/// member remembers of another member's signing.
@Suite struct SignedHeightWitnessTests {
    let node = PrivateKey.generate()
    let witness = PrivateKey.generate().publicKey.compressed

    func signed(_ step: VoteStep, height: UInt64, round: UInt32, by key: PrivateKey? = nil) -> SignedMessage {
        SignedMessage.sign(.vote(Vote(step: step, height: height, round: round, valueID: nil)), with: Secp256k1Signer(privateKey: key ?? node))
    }

    @Test func anIntactStoreAccountsForEveryMessageItSigned() {
        let logged = [signed(.prevote, height: 8, round: 0), signed(.precommit, height: 8, round: 0)]
        // Decided heights need no log; the current height's messages are in the log.
        #expect(StoreRolledBack.check(proof: signed(.precommit, height: 7, round: 3), decidedHeight: 7, logged: logged, witness: witness) == nil)
        #expect(StoreRolledBack.check(proof: logged[1], decidedHeight: 7, logged: logged, witness: witness) == nil)
    }

    @Test func aStoreMissingALaterMessageWasRolledBack() {
        let logged = [signed(.prevote, height: 8, round: 0)]
        // A later height than the store reached.
        let ahead = StoreRolledBack.check(proof: signed(.prevote, height: 12, round: 0), decidedHeight: 7, logged: logged, witness: witness)
        #expect(ahead == StoreRolledBack(decidedHeight: 7, signedHeight: 12, signedRound: 0, signedStep: "prevote", witness: witness))
        // The same height, a later round the restored log does not hold (the log was copied mid-height).
        let laterRound = StoreRolledBack.check(proof: signed(.precommit, height: 8, round: 1), decidedHeight: 7, logged: logged, witness: witness)
        #expect(laterRound?.signedRound == 1)
        #expect(laterRound?.description.contains("sealed store rolled back") == true)
    }

    @Test func membersRememberEachMembersHighestValidlySignedMessage() {
        let other = PrivateKey.generate()
        let outsider = PrivateKey.generate()
        var memory = SignedMessageMemory(committee: [node.publicKey, other.publicKey])
        let highest = signed(.precommit, height: 5, round: 0)
        memory.observe(signed(.prevote, height: 5, round: 0).wireBytes)
        memory.observe(highest.wireBytes)
        memory.observe(signed(.prevote, height: 4, round: 2).wireBytes)  // older: ignored
        #expect(memory.answer(for: node.publicKey.compressed) == highest.wireBytes)
        // A message claiming the node as signer but signed by another key is not remembered.
        var forged = signed(.precommit, height: 9, round: 0, by: other).wireBytes
        let real = signed(.precommit, height: 9, round: 0).wireBytes
        forged.replaceSubrange(0..<(real.count - 64), with: real[0..<(real.count - 64)])
        memory.observe(forged)
        #expect(memory.answer(for: node.publicKey.compressed) == highest.wireBytes)
        // Non-members are not remembered; nothing seen is an empty answer.
        memory.observe(signed(.prevote, height: 9, round: 0, by: outsider).wireBytes)
        #expect(memory.answer(for: outsider.publicKey.compressed).isEmpty)
        #expect(memory.answer(for: other.publicKey.compressed).isEmpty)
    }
}
