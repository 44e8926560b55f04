import Crypto
import Foundation

/// Verifies an SEV-SNP report (AMD "SEV-SNP Firmware ABI" and "Versioned Chip Endorsement Key (VCEK)
/// Certificate and KDS Interface" specifications):
/// ARK (pinned, self-signed) → ASK/ASVK → VCEK/VLEK, all RSASSA-PSS; the endorsement key's TCB SPL extensions
/// equal REPORTED_TCB; its hwID equals CHIP_ID (VCEK, unmasked); the ARK's CRL, when supplied, lists neither the
/// ASK/ASVK nor the VCEK/VLEK (`AMDRevocation.swift`); then the P-384 report signature.
struct SNPVerifier {
    /// Pinned ARKs and the ASK/ASVKs known to be signed by them.
    let amdCertificates: [[UInt8]]

    static let extensionBase = "1.3.6.1.4.1.3704.1"

    func verify(_ report: SNPReport, certificates: [[UInt8]], crls: [[UInt8]] = [], at time: Date) throws(AttestationError) -> VerifiedEvidence {
        let pinned = try amdCertificates.enumerated().map { i, der throws(AttestationError) in try AMDCertificate(der: der, name: "AMD root \(i)") }
        let supplied = try certificates.enumerated().map { i, der throws(AttestationError) in try AMDCertificate(der: der, name: "supplied certificate \(i)") }
        // Only self-signed pinned certificates are roots (ARKs); a root inside the supplied bytes is never trusted.
        let arks = pinned.filter { $0.subjectDER == $0.issuerDER && $0.isSigned(by: $0) }
        guard let endorsement = supplied.first(where: { $0.keyAlgorithmOID == AMDCertificate.ecPublicKey }) else {
            throw .collateralMissing("VCEK or VLEK certificate")
        }
        if report.signingKey == .vcek, report.isChipKeyMasked {
            throw .endorsementKeyMismatch(detail: "MASK_CHIP_KEY is set: the chip key (VCEK) did not sign this report")
        }
        let wantCN = report.signingKey == .vcek ? "SEV-VCEK" : "SEV-VLEK"
        guard endorsement.subjectCommonName == wantCN else {
            throw .endorsementKeyMismatch(detail: "report is signed by a \(report.signingKey == .vcek ? "VCEK" : "VLEK") but the certificate is \(endorsement.subjectCommonName)")
        }
        // Find the intermediate (ASK or ASVK) that issued the endorsement key and is itself issued by a pinned ARK.
        let candidates = (pinned + supplied).filter { endorsement.subjectIssuerMatches($0) && $0.keyAlgorithmOID == AMDCertificate.rsaEncryption }
        guard !candidates.isEmpty else { throw .untrustedRoot(chain: "AMD") }
        var chain: (ark: AMDCertificate, intermediate: AMDCertificate)? = nil
        for intermediate in candidates {
            if let ark = arks.first(where: { intermediate.subjectIssuerMatches($0) && intermediate.isSigned(by: $0) }) {
                chain = (ark, intermediate)
                break
            }
        }
        guard let chain else { throw .untrustedRoot(chain: "AMD") }
        guard endorsement.isSigned(by: chain.intermediate) else { throw .certificateSignatureInvalid(subject: endorsement.subjectCommonName) }
        try chain.ark.checkValidity(at: time)
        try chain.intermediate.checkValidity(at: time)
        try endorsement.checkValidity(at: time)
        for cert in [chain.ark, chain.intermediate, endorsement] {
            let handled: Set<String> = ["2.5.29.19", "2.5.29.15"]
            for (oid, ext) in cert.extensions where ext.critical && !handled.contains(oid) {
                throw .unhandledCriticalExtension(subject: cert.subjectCommonName, oid: oid)
            }
        }
        let revocationChecked = try Self.checkRevocation(crls: crls, ark: chain.ark, intermediate: chain.intermediate,
                                                         endorsement: endorsement, at: time)

        // The endorsement key must describe this report.
        let base = SNPVerifier.extensionBase
        let expectedSPLs: [(String, String, UInt8)] = [
            ("blSPL", "\(base).3.1", report.reportedTCB.bootloader), ("teeSPL", "\(base).3.2", report.reportedTCB.tee),
            ("snpSPL", "\(base).3.3", report.reportedTCB.snp), ("ucodeSPL", "\(base).3.8", report.reportedTCB.microcode),
        ]
        for (label, oid, reported) in expectedSPLs {
            guard let spl = endorsement.integerExtension(oid) else { throw .endorsementKeyMismatch(detail: "certificate lacks \(label)") }
            guard spl == Int(reported) else { throw .endorsementKeyMismatch(detail: "\(label) \(spl) ≠ REPORTED_TCB \(reported)") }
        }
        // A zero CHIP_ID (MASK_CHIP_ID) cannot be compared; the VCEK's signature still binds the chip.
        if report.signingKey == .vcek, !report.isChipIDMasked {
            guard let hwID = endorsement.extensions["\(base).4"]?.value else { throw .endorsementKeyMismatch(detail: "VCEK lacks hwID") }
            guard hwID == report.chipID else { throw .endorsementKeyMismatch(detail: "hwID ≠ CHIP_ID") }
        }
        let arkProduct = chain.ark.subjectCommonName.hasPrefix("ARK-") ? String(chain.ark.subjectCommonName.dropFirst(4)) : chain.ark.subjectCommonName
        if let product = endorsement.stringExtension("\(base).2"), !product.hasPrefix(arkProduct) {
            throw .endorsementKeyMismatch(detail: "productName \(product) is not a \(arkProduct) part")
        }

        guard let key = try? P384.Signing.PublicKey(derRepresentation: endorsement.spkiDER) else {
            throw .malformedCertificate(which: wantCN, detail: "public key is not P-384")
        }
        guard let signature = try? P384.Signing.ECDSASignature(rawRepresentation: report.signatureR + report.signatureS),
              key.isValidSignature(signature, for: report.signedBytes)
        else { throw .reportSignatureInvalid }

        return VerifiedEvidence(
            platform: .sevSNP, measurements: SNPVerifier.measurements(report), reportData: report.reportData,
            tcb: TCBEvaluation(status: .notEvaluated), isDebug: report.isDebug, verifiedAt: time, collateralChecked: true,
            revocationChecked: revocationChecked)
    }

    static func measurements(_ r: SNPReport) -> [String: [UInt8]] {
        ["measurement": r.measurement, "hostdata": r.hostData, "policy": r.policy.bigEndianBytes, "vmpl": r.vmpl.bigEndianBytes,
         "guestsvn": r.guestSVN.bigEndianBytes, "familyid": r.familyID, "imageid": r.imageID, "idkeydigest": r.idKeyDigest,
         "authorkeydigest": r.authorKeyDigest, "reportedtcb": r.reportedTCB.raw, "chipid": r.chipID, "platforminfo": r.platformInfo.bigEndianBytes]
    }
}
