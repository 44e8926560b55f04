import Foundation
import X509
import SwiftASN1

/// Synchronous path validation for the short, fixed-shape chains TEE vendors use (leaf ← CA(s) ← pinned root),
/// built on swift-certificates' parsing and signature checks.
///
/// swift-certificates' `Verifier` is async and searches for paths; attestation needs neither (the evidence
/// names its chain, and verification must run inside synchronous protocol state machines), so this checks the
/// given path directly: each certificate is signed by the next, every issuer is a CA with keyCertSign and a
/// sufficient pathLen, every certificate is valid at `time`, no unknown critical extension is present, and the
/// path ends at the pinned root (compared byte for byte; a root carried in the evidence is only used if identical).
enum CertificateChain {
    /// Extensions this validator enforces; any other critical extension fails the chain.
    static let handledCriticalExtensions: Set<String> = ["2.5.29.19", "2.5.29.15"]

    /// Parses DER into a certificate.
    static func certificate(_ der: [UInt8], _ which: String) throws(AttestationError) -> Certificate {
        do { return try Certificate(derEncoded: der) } catch {
            throw .malformedCertificate(which: which, detail: "\(error)")
        }
    }

    /// Validates `chain` (leaf first; the pinned root may or may not be included as the last element).
    /// Returns the parsed certificates, leaf first, root last.
    @discardableResult
    /// `leafSigns`: the leaf's key signs evidence or collateral, so its keyUsage must include digitalSignature
    /// (Intel's PCK and TCB-signing profiles and AWS's Nitro leaves all carry it).
    static func validate(_ chain: [[UInt8]], root rootDER: [UInt8], name: String, at time: Date, leafSigns: Bool = false,
                         revoked: (Certificate) -> Bool = { _ in false })
        throws(AttestationError) -> [Certificate]
    {
        var ders = chain
        if ders.last == rootDER { ders.removeLast() }
        guard !ders.isEmpty else { throw .malformedCertificate(which: name, detail: "empty chain") }
        var certs: [Certificate] = []
        for (i, der) in ders.enumerated() { certs.append(try certificate(der, "\(name) certificate \(i)")) }
        let root = try certificate(rootDER, "\(name) root")
        certs.append(root)
        try validate(parsed: certs, name: name, at: time, revoked: revoked)
        if leafSigns {
            guard let usage = try? certs[0].extensions.keyUsage, usage.digitalSignature else {
                throw .leafKeyUsageInvalid(subject: certs[0].subject.description)
            }
        }
        return certs
    }

    /// Validates an already-parsed path whose last element is the pinned root.
    static func validate(parsed certs: [Certificate], name: String, at time: Date, revoked: (Certificate) -> Bool = { _ in false }) throws(AttestationError) {
        for (index, cert) in certs.enumerated() {
            let subject = cert.subject.description
            guard cert.notValidBefore <= time, time <= cert.notValidAfter else {
                throw .certificateNotValidAt(subject: subject, notBefore: cert.notValidBefore, notAfter: cert.notValidAfter, time: time)
            }
            for ext in cert.extensions where ext.critical && !handledCriticalExtensions.contains(ext.oid.description) {
                throw .unhandledCriticalExtension(subject: subject, oid: ext.oid.description)
            }
            if index == certs.count - 1 { break }  // the pinned root is trusted as is
            let issuer = certs[index + 1]
            guard cert.issuer == issuer.subject else { throw .untrustedRoot(chain: name) }
            // Intermediates below this issuer (self-issued ones count too; none occur in vendor chains).
            let intermediatesBelow = index
            guard issuerMayIssue(issuer, intermediatesBelow: intermediatesBelow) else { throw .issuerNotCA(subject: issuer.subject.description) }
            guard issuer.publicKey.isValidSignature(cert.signature, for: cert) else { throw .certificateSignatureInvalid(subject: subject) }
            if revoked(cert) { throw .certificateRevoked(subject: subject, serial: cert.serialNumber.description) }
        }
    }

    static func issuerMayIssue(_ issuer: Certificate, intermediatesBelow: Int) -> Bool {
        guard let constraints = try? issuer.extensions.basicConstraints, case .isCertificateAuthority(let maxPathLength) = constraints else { return false }
        if let maxPathLength, intermediatesBelow > maxPathLength { return false }
        if let usage = try? issuer.extensions.keyUsage, !usage.keyCertSign { return false }
        return true
    }
}
