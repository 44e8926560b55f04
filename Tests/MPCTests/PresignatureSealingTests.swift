// Goal: a presignature sealed to the store and read back signs exactly as the original did, and a damaged,
// truncated or foreign record is a typed error, never a presignature.
import SimulationSupport
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

@Suite(.dedicatedThread) struct PresignatureSealingTests {
    @Test func sealedPresignaturesSignAfterDecoding() throws {
        var rng = DeterministicRNG(seed: 41)
        let shares = try Fixtures.keyShares(t: 1, n: 4, rng: &rng)
        var presign = try MPCSimulation.presign(keyShares: shares, count: 2, rng: &rng)
        let digest = Fixtures.digest(9)
        var ledgers = shares.map { PresignatureLedger(epoch: $0.epoch) }
        var combiner = try SignatureCombiner(presignature: presign.sessions[0].publicData[0], key: shares[0].publicData, digest: digest)
        var records: [[UInt8]] = []
        for slot in 0..<4 {
            var batch = presign.sessions[slot].takePresignatures()
            guard let original = batch.next() else {
                Issue.record("no presignature")
                return
            }
            let record = original.sealedEncoding
            records.append(record)
            // The record holds what the member held: the same public data and index, and it re-encodes identically.
            let restored = try Presignature(sealedEncoding: record)
            let samePublicData = restored.publicData == original.publicData, sameIndex = restored.index == original.index
            let reencoded = restored.sealedEncoding
            #expect(samePublicData)
            #expect(sameIndex)
            #expect(reencoded == record)
            _ = consume original
            let assignment = try Fixtures.assign(restored, digest)
            let share = try restored.signatureShare(for: assignment, ledger: &ledgers[slot])
            #expect(combiner.isValid(share))
            try combiner.add(share)
        }
        let combined = combiner.combine()
        let signature = try #require(combined)
        try Fixtures.checkLocally(signature, key: shares[0].publicData)

        // Damage: every truncation, trailing bytes, another version, and each secret share changed.
        let record = records[1]
        for length in stride(from: 0, to: record.count, by: 7) {
            #expect(throws: MPCError.self, "truncated to \(length)") { try Presignature(sealedEncoding: Array(record.prefix(length))) }
        }
        #expect(throws: MPCError.self) { try Presignature(sealedEncoding: record + [0]) }
        var version = record
        version[0] = 2
        #expect(throws: MPCError.self) { try Presignature(sealedEncoding: version) }
        for secretOffset in [record.count - 192, record.count - 160, record.count - 128, record.count - 96, record.count - 64, record.count - 32] {
            var damaged = record
            damaged[secretOffset + 31] ^= 1
            #expect(throws: MPCError.self, "secret at \(secretOffset)") { try Presignature(sealedEncoding: damaged) }
        }
        // Another member's index with this member's shares: the shares do not open that member's commitments.
        var foreign = record
        let indexOffset = 1 + 32 + 32 + 4 + 8 + 4
        foreign[indexOffset + 3] = 3
        #expect(throws: MPCError.self) { try Presignature(sealedEncoding: foreign) }
        // A different id than its session and instance derive.
        var renamed = record
        renamed[1] ^= 0x80
        #expect(throws: MPCError.self) { try Presignature(sealedEncoding: renamed) }
        // Every single-bit change is refused, except in the parts the record cannot check by itself: the epoch (the
        // assignment and the ledger check it when signing), the product proofs and other members' key-product
        // commitments (the combiner checks those against their shares).
        let epochRange = (1 + 32 + 32 + 4)..<(1 + 32 + 32 + 4 + 8)
        // Claims: four (party u32, three points, three scalars) records before the 192 bytes of secret shares; the
        // zero sharing's constant commitment is the identity (encoded in two bytes), so the start is counted back.
        let claimBytes = 4 + 3 * 66 + 96
        let claimsStart = record.count - 192 - 4 * claimBytes
        #expect(Array(record[(claimsStart - 2)..<claimsStart]) == [0, 4], "four claims where the layout puts them")
        let ownIndex = 2
        var unchecked = Set(epochRange)
        for start in stride(from: claimsStart, to: record.count - 192, by: claimBytes) {
            // This member's own P' is checked (its k⁻¹x share must open it); the proofs are the combiner's to check.
            unchecked.formUnion((Int(record[start + 3]) == ownIndex ? start + 4 + 66 : start)..<start + claimBytes)
        }
        var refused = 0
        for offset in 0..<record.count where !unchecked.contains(offset) {
            var flipped = record
            flipped[offset] ^= 0x01
            if (try? Presignature(sealedEncoding: flipped)) == nil { refused += 1 } else { Issue.record("a flip at \(offset) decoded") }
        }
        #expect(refused == record.count - unchecked.count)
    }
}
