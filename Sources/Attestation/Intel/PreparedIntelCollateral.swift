import Foundation
import X509

/// Intel collateral verified once and kept parsed (issue 17: "appraising a peer costs one quote verification, not a
/// collateral re-parse"): both CRLs validated (issuer, cRLSign, signature), the PCK CRL issuer chain validated to
/// the pinned root, TCB info and QE identity signed by the pinned TCB signer and parsed. What stays per quote is
/// the quote's own PCK chain (checked against these CRLs), the QE report, the quote signature and the TCB level.
///
/// It is valid for `validFrom...validUntil`: the intersection of the CRLs' thisUpdate..nextUpdate, TCB info's and QE
/// identity's issueDate..nextUpdate, and the issuer certificates' validity. A quote verified at a time outside the
/// window fails with `collateralExpired(which: "Intel collateral", …)`; the node then prepares the refreshed
/// collateral from its cache directory.
public struct PreparedIntelCollateral: Sendable {
    let rootDER: [UInt8]
    let rootCertificate: Certificate
    let rootCRL: CertificateRevocationList
    let pckCRL: CertificateRevocationList
    let pckCRLIssuer: Certificate
    let tcbInfo: TCBInfo
    let qeIdentity: QEIdentity
    public let validFrom: Date
    public let validUntil: Date

    /// Verifies `collateral` against `trustAnchors`' Intel root at `time` (which must be inside every window).
    public init(_ collateral: IntelCollateral, trustAnchors: TrustAnchors = .production, at time: Date) throws(AttestationError) {
        try self.init(collateral, rootDER: trustAnchors.intelRootCA, at: time)
    }

    init(_ collateral: IntelCollateral, rootDER: [UInt8], at time: Date) throws(AttestationError) {
        self.rootDER = rootDER
        let root = try CertificateChain.certificate(rootDER, "Intel root")
        rootCertificate = root
        // CRLs first: they feed revocation into every chain below.
        let rootCRL = try CertificateRevocationList(der: collateral.rootCACRL, name: "Intel root CA CRL")
        try rootCRL.validate(issuer: root, at: time, name: "Intel root CA CRL")
        self.rootCRL = rootCRL
        // The PCK CRL is issued by the PCK's CA; its issuer chain (checked against the root CRL) comes with the collateral.
        let pckCRL = try CertificateRevocationList(der: collateral.pckCRL, name: "PCK CRL")
        let crlIssuerChain = try CertificateChain.validate(try PEM.certificates(collateral.pckCRLIssuerChainPEM), root: rootDER,
                                                           name: "PCK CRL issuer", at: time, revoked: { rootCRL.isRevoked($0) })
        try pckCRL.validate(issuer: crlIssuerChain[0], at: time, name: "PCK CRL")
        self.pckCRL = pckCRL
        pckCRLIssuer = crlIssuerChain[0]
        let revoked: (Certificate) -> Bool = { rootCRL.isRevoked($0) || pckCRL.isRevoked($0) }

        // TCB info and QE identity: signatures over the exact JSON text (by the pinned TCB signer), then content.
        let verifier = IntelQuoteVerifier(rootDER: rootDER)
        let tcbSigner = try verifier.collateralSigner(collateral.tcbInfoIssuerChainPEM, which: "TCB info", at: time, revoked: revoked)
        guard tcbSigner.publicKey.isValidSignature(IntelQuoteVerifier.der(rawSignature: collateral.tcbInfoSignature), for: collateral.tcbInfoJSON,
                                                   signatureAlgorithm: .ecdsaWithSHA256)
        else { throw .collateralSignatureInvalid(which: "TCB info") }
        let tcbInfo = try TCBInfo(json: collateral.tcbInfoJSON)
        guard tcbInfo.issueDate <= time, time <= tcbInfo.nextUpdate else {
            throw .collateralExpired(which: "TCB info", issueDate: tcbInfo.issueDate, nextUpdate: tcbInfo.nextUpdate, time: time)
        }
        self.tcbInfo = tcbInfo
        let qeSigner = try verifier.collateralSigner(collateral.qeIdentityIssuerChainPEM, which: "QE identity", at: time, revoked: revoked)
        guard qeSigner.publicKey.isValidSignature(IntelQuoteVerifier.der(rawSignature: collateral.qeIdentitySignature), for: collateral.qeIdentityJSON,
                                                  signatureAlgorithm: .ecdsaWithSHA256)
        else { throw .collateralSignatureInvalid(which: "QE identity") }
        let qeIdentity = try QEIdentity(json: collateral.qeIdentityJSON)
        guard qeIdentity.issueDate <= time, time <= qeIdentity.nextUpdate else {
            throw .collateralExpired(which: "QE identity", issueDate: qeIdentity.issueDate, nextUpdate: qeIdentity.nextUpdate, time: time)
        }
        self.qeIdentity = qeIdentity

        let certificates = [root] + crlIssuerChain + [tcbSigner, qeSigner]
        validFrom = ([rootCRL.thisUpdate, pckCRL.thisUpdate, tcbInfo.issueDate, qeIdentity.issueDate] + certificates.map(\.notValidBefore)).max()!
        validUntil = ([rootCRL.nextUpdate, pckCRL.nextUpdate].compactMap { $0 } + [tcbInfo.nextUpdate, qeIdentity.nextUpdate]
            + certificates.map(\.notValidAfter)).min()!
    }

    /// Whether certificates are on either CRL.
    func isRevoked(_ certificate: Certificate) -> Bool { rootCRL.isRevoked(certificate) || pckCRL.isRevoked(certificate) }
}
