import Crypto
import Foundation
import X509

/// Verifies an AWS Nitro attestation document: the certificate chain leaf ← cabundle[n-1] ← … ← cabundle[0],
/// where cabundle[0] must be the pinned AWS Nitro root, and the COSE_Sign1 ES384 signature by the leaf key.
struct NitroVerifier {
    let rootDER: [UInt8]

    func verify(_ document: NitroDocument, at time: Date) throws(AttestationError) -> VerifiedEvidence {
        guard document.caBundle.first == rootDER else { throw .untrustedRoot(chain: "Nitro") }
        let chain = [document.certificate] + document.caBundle.reversed()
        let certs = try CertificateChain.validate(chain, root: rootDER, name: "Nitro", at: time, leafSigns: true)
        guard let key = P384.Signing.PublicKey(certs[0].publicKey),
              let signature = try? P384.Signing.ECDSASignature(rawRepresentation: document.signature),
              key.isValidSignature(signature, for: document.signedBytes)
        else { throw .coseSignatureInvalid }
        var measurements: [String: [UInt8]] = ["moduleid": Array(document.moduleID.utf8)]
        for (index, value) in document.pcrs { measurements["pcr\(index)"] = value }
        return VerifiedEvidence(
            platform: .nitro, measurements: measurements, reportData: document.userData ?? [], tcb: TCBEvaluation(status: .notEvaluated),
            isDebug: document.isDebug, producedAt: Date(timeIntervalSince1970: TimeInterval(document.timestamp) / 1000), verifiedAt: time,
            collateralChecked: false)
    }
}
