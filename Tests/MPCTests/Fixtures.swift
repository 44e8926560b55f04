// Shared set-up for the protocol tests: whole committees run over the in-process LocalNetwork.
import Foundation
import MPCSimulator
import SimulationKit
import Testing
import TestSupport

@testable import MPC
@testable import Secp256k1

enum Fixtures {
    /// Key shares of an honest key generation.
    static func keyShares(t: Int, n: Int, rng: inout DeterministicRNG) throws -> [KeyShare] {
        let network = try MPCSimulation.generateKey(parameters: try CommitteeParameters(size: n, threshold: t), rng: &rng)
        let shares = network.sessions.compactMap(\.keyShare)
        try #require(shares.count == n)
        return shares
    }

    /// Signs `digests` (one presignature each) with `signers` (slots), combining with a fresh combiner.
    /// `tamper` may rewrite a signer's share. Returns the combiner of each digest after all shares went in.
    static func sign(
        digests: [[UInt8]], presign network: inout LocalNetwork<PresignSession>, signers: [Int],
        ledgers: inout [PresignatureLedger], tamper: (Int, SignatureShare) -> SignatureShare = { $1 }
    ) throws -> [SignatureCombiner] {
        let key = network.sessions[0].keyShare.publicData
        let publicData = network.sessions[signers[0]].publicData
        try #require(publicData.count >= digests.count)
        var combiners = try digests.indices.map { k in
            try SignatureCombiner(presignature: publicData[k], key: key, digest: digests[k])
        }
        for slot in signers {
            var batch = network.sessions[slot].takePresignatures()
            for k in digests.indices {
                guard let presignature = batch.next() else { Issue.record("missing presignature"); return [] }
                let assignment = try PresignatureAssignment(id: presignature.id, digest: digests[k], epoch: key.epoch)
                let share = try presignature.signatureShare(for: assignment, ledger: &ledgers[slot])
                try combiners[k].add(tamper(slot, share))
            }
        }
        return combiners
    }

    static func digest(_ i: Int) -> [UInt8] { BitcoinHash.sha256(Array("digest \(i)".utf8)) }

    /// The assignment consensus would make: this presignature signs `digest`.
    static func assign(_ presignature: borrowing Presignature, _ digest: [UInt8]) throws(MPCError) -> PresignatureAssignment {
        try PresignatureAssignment(id: presignature.id, digest: digest, epoch: presignature.publicData.epoch)
    }

    /// One oracle line per signature.
    static func oracleLine(_ signature: ThresholdSignature) -> String {
        let fields: [String: Any] = [
            "kind": "signature", "publicKey": Hex.encode(signature.publicKey.compressed),
            "digest": Hex.encode(signature.digest), "der": Hex.encode(signature.signature.der),
            "recoveryId": Int(signature.recoveryID), "evmAddress": signature.publicKey.evmAddressString,
        ]
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Checks signatures with the independent Python verifier (python-ecdsa and coincurve).
    static func verifyWithOracle(_ signatures: [ThresholdSignature]) throws {
        guard PythonOracle.isAvailable else {
            if PythonOracle.isRequired { Issue.record("\(PythonOracle.missingMessage)") }
            return
        }
        let input = signatures.map(oracleLine).joined(separator: "\n") + "\n"
        let output = try PythonOracle.run(script: "mpc_verify.py", input: Data(input.utf8))
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == signatures.count)
        for line in lines {
            let result = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(result?["ok"] as? Bool == true, "oracle: \(result?["why"] ?? "?")")
        }
    }

    /// Checks a released signature locally: libsecp256k1 verification, low-S, and public-key recovery.
    static func checkLocally(_ signature: ThresholdSignature, key: KeyPublicData) throws {
        #expect(key.key.isValidSignature(signature.signature, for: signature.digest))
        #expect(!signature.signature.isHighS)
        let recovered = try signature.recoverable.recoverPublicKey(digest: signature.digest)
        #expect(recovered == key.key)
        #expect(recovered.evmAddressString == key.key.evmAddressString)
    }
}
