import Foundation

/// Why evidence failed verification. Each case names the check; `description` is the human reason the CLI
/// prints and policies quote.
public enum AttestationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The evidence bytes are malformed.
    case parse(EvidenceParseError)
    /// The evidence is of a different platform than the caller required.
    case platformMismatch(expected: AttestationPlatform, found: AttestationPlatform)
    /// A certificate, CRL or PEM/DER blob could not be decoded.
    case malformedCertificate(which: String, detail: String)
    /// A certificate chain does not end in the pinned root for its platform.
    case untrustedRoot(chain: String)
    /// A certificate's signature does not verify under its issuer's key.
    case certificateSignatureInvalid(subject: String)
    /// A certificate is outside its validity window at the verification time.
    case certificateNotValidAt(subject: String, notBefore: Date, notAfter: Date, time: Date)
    /// An issuing certificate is not a CA (basicConstraints) or may not sign certificates (keyUsage).
    case issuerNotCA(subject: String)
    /// A certificate carries a critical extension this verifier does not understand.
    case unhandledCriticalExtension(subject: String, oid: String)
    /// A certificate in the chain is listed on its issuer's CRL.
    case certificateRevoked(subject: String, serial: String)
    /// A CRL is malformed, wrongly signed, from the wrong issuer, or outside thisUpdate..nextUpdate.
    case crlInvalid(which: String, detail: String)
    /// Required collateral was not supplied.
    case collateralMissing(String)
    /// Collateral is malformed or does not apply to this evidence (wrong id, FMSPC, PCE id, TCB type...).
    case collateralInvalid(which: String, detail: String)
    /// Collateral's signature does not verify under its issuer chain.
    case collateralSignatureInvalid(which: String)
    /// Collateral is signed by a certificate that may not sign it (TCB info and QE identity: only the "Intel SGX
    /// TCB Signing" certificate directly under the pinned root, with a signing key usage).
    case collateralSignerInvalid(which: String, detail: String)
    /// A leaf certificate whose key signs evidence lacks the digitalSignature key usage.
    case leafKeyUsageInvalid(subject: String)
    /// The verification time is outside collateral's issueDate..nextUpdate.
    case collateralExpired(which: String, issueDate: Date, nextUpdate: Date, time: Date)
    /// The attestation key in the quote is not a valid P-256 point.
    case attestationKeyInvalid
    /// The quote signature over header and body does not verify under the attestation key.
    case quoteSignatureInvalid
    /// The QE report signature does not verify under the PCK certificate's key.
    case qeReportSignatureInvalid
    /// The QE report does not bind the attestation key: REPORTDATA ≠ SHA-256(key ‖ auth data) ‖ 0³².
    case qeReportDataMismatch
    /// The QE report does not match Intel's QE identity (MRSIGNER, ISVPRODID, attributes or MISCSELECT).
    case qeIdentityMismatch(detail: String)
    /// The QE's ISVSVN is below every level in the QE identity.
    case noMatchingQETCBLevel(isvSVN: UInt16)
    /// The PCK certificate's SGX extension is missing or malformed.
    case pckExtensionInvalid(detail: String)
    /// The platform's TCB (PCK SVNs, and for TDX the TEE_TCB_SVN) is below every level in the TCB info.
    case noMatchingTCBLevel(detail: String)
    /// The SEV-SNP report signature does not verify under the VCEK/VLEK key.
    case reportSignatureInvalid
    /// The VCEK/VLEK certificate does not describe this report (TCB SPLs, chip id, product).
    case endorsementKeyMismatch(detail: String)
    /// The Nitro COSE_Sign1 signature does not verify under the document's leaf certificate.
    case coseSignatureInvalid
    /// Simulated evidence is not signed by its platform key.
    case simulatedSignatureInvalid

    public var description: String {
        func d(_ date: Date) -> String { date.formatted(.iso8601) }
        switch self {
        case .parse(let e): return "malformed evidence: \(e)"
        case .platformMismatch(let e, let f): return "expected \(e.rawValue) evidence, found \(f.rawValue)"
        case .malformedCertificate(let w, let detail): return "malformed certificate data (\(w)): \(detail)"
        case .untrustedRoot(let c): return "\(c) chain does not end in the pinned root"
        case .certificateSignatureInvalid(let s): return "certificate signature invalid: \(s)"
        case .certificateNotValidAt(let s, let nb, let na, let t): return "certificate \(s) is valid \(d(nb)) to \(d(na)), not at \(d(t))"
        case .issuerNotCA(let s): return "issuer \(s) is not a CA allowed to sign certificates"
        case .unhandledCriticalExtension(let s, let o): return "certificate \(s) has unhandled critical extension \(o)"
        case .certificateRevoked(let s, let serial): return "certificate \(s) (serial \(serial)) is revoked"
        case .crlInvalid(let w, let detail): return "CRL \(w) invalid: \(detail)"
        case .collateralMissing(let w): return "collateral missing: \(w)"
        case .collateralInvalid(let w, let detail): return "collateral \(w) invalid: \(detail)"
        case .collateralSignatureInvalid(let w): return "collateral \(w) signature invalid"
        case .collateralSignerInvalid(let w, let detail): return "collateral \(w) signer invalid: \(detail)"
        case .leafKeyUsageInvalid(let s): return "certificate \(s) may not sign evidence (keyUsage lacks digitalSignature)"
        case .collateralExpired(let w, let i, let n, let t): return "collateral \(w) is valid \(d(i)) to \(d(n)), not at \(d(t))"
        case .attestationKeyInvalid: return "quote attestation key is not a P-256 point"
        case .quoteSignatureInvalid: return "quote signature invalid"
        case .qeReportSignatureInvalid: return "QE report signature invalid"
        case .qeReportDataMismatch: return "QE report data does not bind the attestation key"
        case .qeIdentityMismatch(let detail): return "QE identity mismatch: \(detail)"
        case .noMatchingQETCBLevel(let svn): return "QE ISVSVN \(svn) matches no QE identity TCB level"
        case .pckExtensionInvalid(let detail): return "PCK certificate SGX extension invalid: \(detail)"
        case .noMatchingTCBLevel(let detail): return "no matching TCB level: \(detail)"
        case .reportSignatureInvalid: return "SEV-SNP report signature invalid"
        case .endorsementKeyMismatch(let detail): return "VCEK/VLEK does not match report: \(detail)"
        case .coseSignatureInvalid: return "Nitro COSE_Sign1 signature invalid"
        case .simulatedSignatureInvalid: return "simulated evidence signature invalid"
        }
    }
}
