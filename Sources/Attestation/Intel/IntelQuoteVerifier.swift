import Crypto
import Foundation
import SwiftASN1
import X509

/// Verifies Intel SGX and TDX DCAP quotes, following Intel's Quote Verification Library flow:
/// 1. PCK chain (leaf ← Processor/Platform CA ← pinned Intel SGX Root CA), checked against the root and PCK CRLs;
/// 2. QE report signature (PCK key) and QE report-data binding of the attestation key;
/// 3. quote signature (attestation key) over header and body;
/// 4. with collateral: TCB info and QE identity signatures over their exact JSON bytes (TCB signing chain to the
///    same root), their validity windows, the QE's identity and TCB level, and the platform TCB level chosen
///    from the PCK certificate's SGX extension (and, for TDX, TEE_TCB_SVN and the TDX module identity).
struct IntelQuoteVerifier {
    let rootDER: [UInt8]

    func verify(_ quote: IntelQuote, collateral: IntelCollateral?, at time: Date) throws(AttestationError) -> VerifiedEvidence {
        guard quote.qeVendorID == IntelQuote.intelQEVendorID else {
            throw .parse(.invalidField(structure: "Intel quote", field: "qe_vendor_id", detail: "not Intel's QE"))
        }
        let prepared = try collateral.map { c throws(AttestationError) in try PreparedIntelCollateral(c, rootDER: rootDER, at: time) }
        return try verify(quote, prepared: prepared, at: time)
    }

    /// Verifies `quote` with collateral verified beforehand (`nil`: authenticity only, TCB not evaluated).
    func verify(_ quote: IntelQuote, prepared: PreparedIntelCollateral?, at time: Date) throws(AttestationError) -> VerifiedEvidence {
        guard quote.qeVendorID == IntelQuote.intelQEVendorID else {
            throw .parse(.invalidField(structure: "Intel quote", field: "qe_vendor_id", detail: "not Intel's QE"))
        }
        if let prepared {
            guard prepared.rootDER == rootDER else { throw .untrustedRoot(chain: "Intel collateral") }
            guard prepared.validFrom <= time, time <= prepared.validUntil else {
                throw .collateralExpired(which: "Intel collateral", issueDate: prepared.validFrom, nextUpdate: prepared.validUntil, time: time)
            }
        }
        let revoked: (Certificate) -> Bool = { cert in prepared?.isRevoked(cert) ?? false }

        // 1. PCK chain, checked once against both CRLs.
        let pckChainDER = try PEM.certificates(bytes: quote.pckCertificateChainPEM)
        let pckChain = try CertificateChain.validate(pckChainDER, root: rootDER, name: "PCK", at: time, leafSigns: true, revoked: revoked)
        let pck = pckChain[0]
        if let prepared {
            // Intel QVL: the PCK CRL must be the one of the CA that issued this PCK (Processor or Platform CA), signed
            // by that CA's key; another CA's CRL, however valid, says nothing about this PCK's revocation.
            guard prepared.pckCRL.issuer == pck.issuer, pckChain.count > 1, prepared.pckCRLIssuer.subject == pckChain[1].subject,
                  prepared.pckCRLIssuer.publicKey == pckChain[1].publicKey
            else {
                throw .crlInvalid(which: "PCK CRL", detail: "issued by \(prepared.pckCRL.issuer), not by the PCK's issuer \(pck.issuer)")
            }
        }
        let pckExtension = try PCKExtension(certificate: pck)

        // 2. QE report signature and binding.
        guard pck.publicKey.isValidSignature(IntelQuoteVerifier.der(rawSignature: quote.qeReportSignature), for: quote.qeReport.encoded,
                                             signatureAlgorithm: .ecdsaWithSHA256)
        else { throw .qeReportSignatureInvalid }
        let expectedBinding = Array(SHA256.hash(data: quote.attestationKey + quote.qeAuthenticationData)) + [UInt8](repeating: 0, count: 32)
        guard quote.qeReport.reportData == expectedBinding else { throw .qeReportDataMismatch }

        // 3. Quote signature.
        guard let attestationKey = try? P256.Signing.PublicKey(rawRepresentation: quote.attestationKey) else { throw .attestationKeyInvalid }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: quote.quoteSignature),
              attestationKey.isValidSignature(signature, for: quote.signedBytes)
        else { throw .quoteSignatureInvalid }

        // 4. Collateral and TCB.
        var tcb = TCBEvaluation(status: .notEvaluated)
        if let prepared {
            tcb = try evaluateTCB(quote: quote, pckExtension: pckExtension, tcbInfo: prepared.tcbInfo, qeIdentity: prepared.qeIdentity)
        }
        return VerifiedEvidence(
            platform: quote.isTDX ? .tdx : .sgx, measurements: IntelQuoteVerifier.measurements(quote), reportData: quote.reportData,
            tcb: tcb, isDebug: IntelQuoteVerifier.isDebug(quote), verifiedAt: time, collateralChecked: prepared != nil,
            revocationChecked: prepared != nil)
    }

    private func evaluateTCB(quote: IntelQuote, pckExtension: PCKExtension, tcbInfo: TCBInfo, qeIdentity: QEIdentity) throws(AttestationError)
        -> TCBEvaluation
    {
        // QE identity: the QE must be Intel's, in production mode, at a listed ISVSVN.
        let expectedQEID = quote.isTDX ? "TD_QE" : "QE"
        guard qeIdentity.id == expectedQEID else { throw .collateralInvalid(which: "QE identity", detail: "id \(qeIdentity.id), expected \(expectedQEID)") }
        let qe = quote.qeReport
        guard qe.mrSigner == qeIdentity.mrSigner else { throw .qeIdentityMismatch(detail: "MRSIGNER \(qe.mrSigner.hexString)") }
        guard qe.isvProductID == qeIdentity.isvProductID else { throw .qeIdentityMismatch(detail: "ISVPRODID \(qe.isvProductID)") }
        guard qe.miscSelect & qeIdentity.miscSelectMask == qeIdentity.miscSelect & qeIdentity.miscSelectMask else {
            throw .qeIdentityMismatch(detail: "MISCSELECT")
        }
        for i in 0..<16 where qe.attributes[i] & qeIdentity.attributesMask[i] != qeIdentity.attributes[i] & qeIdentity.attributesMask[i] {
            throw .qeIdentityMismatch(detail: "ATTRIBUTES")
        }
        guard !qe.isDebug else { throw .qeIdentityMismatch(detail: "the QE runs in debug mode") }
        guard let qeLevel = qeIdentity.levels.first(where: { qe.isvSVN >= $0.isvSVN }) else { throw .noMatchingQETCBLevel(isvSVN: qe.isvSVN) }

        // Platform TCB level from the PCK extension.
        guard tcbInfo.id == (quote.isTDX ? "TDX" : "SGX") else { throw .collateralInvalid(which: "TCB info", detail: "id \(tcbInfo.id) does not fit a \(quote.isTDX ? "TDX" : "SGX") quote") }
        if quote.isTDX, tcbInfo.version < 3 { throw .collateralInvalid(which: "TCB info", detail: "TDX needs TCB info version 3") }
        guard tcbInfo.fmspc == pckExtension.fmspc else { throw .collateralInvalid(which: "TCB info", detail: "FMSPC \(tcbInfo.fmspc.hexString) ≠ PCK FMSPC \(pckExtension.fmspc.hexString)") }
        guard tcbInfo.pceID == pckExtension.pceID else { throw .collateralInvalid(which: "TCB info", detail: "PCE id mismatch") }
        var teeTCBSVN: [UInt8] = []
        if case .td(let td) = quote.body { teeTCBSVN = td.teeTCBSVN }
        let level = tcbInfo.levels.first { level in
            guard pckExtension.pceSVN >= level.pceSVN, zip(pckExtension.componentSVNs, level.sgxComponents).allSatisfy({ $0 >= $1 }) else { return false }
            if quote.isTDX {
                guard let tdx = level.tdxComponents, zip(teeTCBSVN, tdx).allSatisfy({ $0 >= $1 }) else { return false }
            }
            return true
        }
        guard let level else {
            throw .noMatchingTCBLevel(detail: "PCK SVNs \(pckExtension.componentSVNs.map(String.init).joined(separator: ",")) PCESVN \(pckExtension.pceSVN)"
                + (quote.isTDX ? " TEE_TCB_SVN \(teeTCBSVN.hexString)" : ""))
        }
        var status = level.status
        var advisories = level.advisoryIDs
        if quote.isTDX, case .td(let td) = quote.body {
            if let module = try tdxModuleStatus(td, tcbInfo) {
                status = status.combined(with: module.status)
                advisories += module.advisoryIDs.filter { !advisories.contains($0) }
            }
        }
        status = status.combined(with: qeLevel.status)
        advisories += qeLevel.advisoryIDs.filter { !advisories.contains($0) }
        return TCBEvaluation(status: status, advisoryIDs: advisories, tcbDate: level.tcbDate, qeStatus: qeLevel.status)
    }

    /// The subject Intel's QVL requires of the TCB info / QE identity signer.
    static let tcbSigningCommonName = "Intel SGX TCB Signing"
    static let intelOrganization = "Intel Corporation"

    /// The certificate that signed TCB info or a QE identity, pinned as Intel's QVL does: the "Intel SGX TCB
    /// Signing" certificate (CN and O), issued *directly* by the pinned root, an end entity (not a CA) whose key
    /// usage includes digitalSignature. Any other chain to the root — a PCK's, a CA's — is refused, so no platform
    /// key can vouch for its own TCB level.
    func collateralSigner(_ chainPEM: String, which: String, at time: Date, revoked: (Certificate) -> Bool) throws(AttestationError) -> Certificate {
        func fail(_ detail: String) -> AttestationError { .collateralSignerInvalid(which: which, detail: detail) }
        var ders = try PEM.certificates(chainPEM)
        if ders.last == rootDER { ders.removeLast() }
        guard ders.count == 1 else {
            throw fail("the signer must be issued directly by the pinned root; the chain has \(ders.count) certificates below it")
        }
        let signer = try CertificateChain.validate(ders, root: rootDER, name: "\(which) issuer", at: time, revoked: revoked)[0]
        guard IntelQuoteVerifier.attribute(signer.subject, .RDNAttributeType.commonName) == IntelQuoteVerifier.tcbSigningCommonName,
              IntelQuoteVerifier.attribute(signer.subject, .RDNAttributeType.organizationName) == IntelQuoteVerifier.intelOrganization
        else { throw fail("\(signer.subject) is not the Intel SGX TCB Signing certificate") }
        guard let usage = try? signer.extensions.keyUsage, usage.digitalSignature, !usage.keyCertSign, !usage.cRLSign else {
            throw fail("\(signer.subject) key usage is not a signing-only usage (digitalSignature, no certificate or CRL signing)")
        }
        if let constraints = try? signer.extensions.basicConstraints, case .isCertificateAuthority = constraints {
            throw fail("\(signer.subject) is a CA")
        }
        return signer
    }

    /// The single value of attribute `type` in `name` (nil if absent or repeated).
    static func attribute(_ name: DistinguishedName, _ type: ASN1ObjectIdentifier) -> String? {
        let values = name.flatMap { rdn in rdn.filter { $0.type == type } }.map { String($0.value) }
        guard values.count == 1, let value = values[0] else { return nil }
        return value
    }

    /// The TDX module identity check (Intel QVL): MRSIGNERSEAM and SEAMATTRIBUTES must match the module named by
    /// TEE_TCB_SVN[1] ("TDX_01"...), whose levels give a status by TEE_TCB_SVN[0].
    private func tdxModuleStatus(_ td: TDReportBody, _ info: TCBInfo) throws(AttestationError) -> (status: TCBStatus, advisoryIDs: [String])? {
        guard let base = info.tdxModule else { throw .collateralInvalid(which: "TCB info", detail: "TDX TCB info without tdxModule") }
        var expected = (mrSigner: base.mrSigner, attributes: base.attributes, mask: base.attributesMask)
        var levels: [(isvSVN: UInt16, status: TCBStatus, advisoryIDs: [String])]? = nil
        let version = td.teeTCBSVN[1]
        if version > 0, !info.tdxModuleIdentities.isEmpty {
            let wanted = String(format: "TDX_%02X", version)
            guard let identity = info.tdxModuleIdentities.first(where: { $0.id.uppercased() == wanted }) else {
                throw .noMatchingTCBLevel(detail: "no TDX module identity \(wanted)")
            }
            expected = (identity.mrSigner, identity.attributes, identity.attributesMask)
            levels = identity.levels
        }
        guard td.mrSignerSeam == expected.mrSigner else { throw .noMatchingTCBLevel(detail: "TDX module MRSIGNERSEAM mismatch") }
        for i in 0..<8 where td.seamAttributes[i] & expected.mask[i] != expected.attributes[i] & expected.mask[i] || td.seamAttributes[i] & ~expected.mask[i] != 0 {
            throw .noMatchingTCBLevel(detail: "TDX module SEAMATTRIBUTES mismatch")
        }
        guard let levels else { return nil }
        guard let level = levels.first(where: { UInt16(td.teeTCBSVN[0]) >= $0.isvSVN }) else {
            throw .noMatchingTCBLevel(detail: "TDX module ISVSVN \(td.teeTCBSVN[0]) below every level")
        }
        return (level.status, level.advisoryIDs)
    }

    /// DER-encodes a raw 64-byte r‖s ECDSA signature (swift-certificates verifies DER).
    static func der(rawSignature raw: [UInt8]) -> [UInt8] {
        guard raw.count == 64, let sig = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else { return [] }
        return Array(sig.derRepresentation)
    }

    static func isDebug(_ quote: IntelQuote) -> Bool {
        switch quote.body {
        case .sgx(let b): return b.isDebug
        case .td(let b): return b.isDebug
        }
    }

    static func measurements(_ quote: IntelQuote) -> [String: [UInt8]] {
        switch quote.body {
        case .sgx(let b):
            return ["mrenclave": b.mrEnclave, "mrsigner": b.mrSigner, "isvprodid": b.isvProductID.bigEndianBytes, "isvsvn": b.isvSVN.bigEndianBytes,
                    "attributes": b.attributes, "configid": b.configID, "configsvn": b.configSVN.bigEndianBytes,
                    "isvextprodid": b.isvExtendedProductID, "isvfamilyid": b.isvFamilyID, "cpusvn": b.cpuSVN, "miscselect": b.miscSelect.bigEndianBytes]
        case .td(let b):
            var m: [String: [UInt8]] = ["mrtd": b.mrTD, "mrseam": b.mrSeam, "mrsignerseam": b.mrSignerSeam, "tdattributes": b.tdAttributes,
                                        "xfam": b.xfam, "mrconfigid": b.mrConfigID, "mrowner": b.mrOwner, "mrownerconfig": b.mrOwnerConfig,
                                        "teetcbsvn": b.teeTCBSVN, "seamattributes": b.seamAttributes]
            for (i, r) in b.rtmrs.enumerated() { m["rtmr\(i)"] = r }
            if let s = b.teeTCBSVN2 { m["teetcbsvn2"] = s }
            if let s = b.mrServiceTD { m["mrservicetd"] = s }
            return m
        }
    }
}
