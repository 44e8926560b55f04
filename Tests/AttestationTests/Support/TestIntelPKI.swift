import Crypto
import Foundation
import SwiftASN1
import X509

@testable import Attestation

/// A test copy of Intel's SGX PKI (root, PCK CA, PCK leaf, TCB signing), with keys this test holds, so that
/// collateral signed by the *wrong* key can be produced and verified end to end.
///
/// The real SGX v3 sample is re-rooted: its PCK chain is replaced by the test chain (the leaf carries the real
/// PCK's SGX extension) and its QE report is re-signed by the test PCK key. The quote signature (attestation key
/// over header and body) and the QE report's binding of the attestation key are the sample's own, so the re-rooted
/// quote is genuine below the PCK. TCB info and QE identity are the sample's JSON texts, re-signed.
struct TestIntelPKI {
    static let notBefore = Samples.time("2020-01-01T00:00:00Z")
    static let notAfter = Samples.time("2040-01-01T00:00:00Z")

    struct Issued {
        let key: P256.Signing.PrivateKey
        let certificate: Certificate
        var der: [UInt8] { var s = DER.Serializer(); try! s.serialize(certificate); return s.serializedBytes }
        var name: DistinguishedName { certificate.subject }
    }

    static func intelName(_ commonName: String) -> DistinguishedName {
        try! DistinguishedName {
            CommonName(commonName)
            OrganizationName("Intel Corporation")
            LocalityName("Santa Clara")
            StateOrProvinceName("CA")
            CountryName("US")
        }
    }

    static func issue(
        _ commonName: String, by issuer: Issued?, serial: [UInt8] = [0x01, 0x23, 0x45], pathLength: Int? = nil,
        usage: KeyUsage?, extra: [Certificate.Extension] = []
    ) -> Issued {
        let key = P256.Signing.PrivateKey()
        let subject = intelName(commonName)
        var extensions: [Certificate.Extension] = []
        if let pathLength {
            extensions.append(try! Certificate.Extension(BasicConstraints.isCertificateAuthority(maxPathLength: pathLength), critical: true))
        } else {
            extensions.append(try! Certificate.Extension(BasicConstraints.notCertificateAuthority, critical: true))
        }
        if let usage { extensions.append(try! Certificate.Extension(usage, critical: true)) }
        extensions += extra
        let certificate = try! Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: serial), publicKey: .init(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: issuer?.name ?? subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: try! Certificate.Extensions(extensions),
            issuerPrivateKey: .init(issuer?.key ?? key))
        return Issued(key: key, certificate: certificate)
    }

    static func pem(_ ders: [[UInt8]]) -> String {
        ders.map { try! PEMDocument(type: "CERTIFICATE", derBytes: $0).pemString + "\n" }.joined()
    }

    // MARK: DER for CRLs (swift-certificates has none)

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] { HostileDERTests.tlv(tag, content) }
    static let ecdsaWithSHA256: [UInt8] = Samples.hex("300a06082a8648ce3d040302")

    static func utcTime(_ date: Date) -> [UInt8] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let text = String(format: "%02d%02d%02d%02d%02d%02dZ", c.year! % 100, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        return tlv(0x17, Array(text.utf8))
    }

    /// A v2 CRL by `issuer` listing `revoked` serial numbers, valid `thisUpdate`…`nextUpdate`.
    static func crl(by issuer: Issued, revoked: [[UInt8]] = [], thisUpdate: Date = notBefore, nextUpdate: Date = notAfter) -> [UInt8] {
        var nameSerializer = DER.Serializer()
        try! nameSerializer.serialize(issuer.name)
        var tbsContent = tlv(0x02, [1]) + ecdsaWithSHA256 + nameSerializer.serializedBytes + utcTime(thisUpdate) + utcTime(nextUpdate)
        if !revoked.isEmpty {
            tbsContent += tlv(0x30, revoked.flatMap { tlv(0x30, tlv(0x02, $0) + utcTime(notBefore)) })
        }
        let tbs = tlv(0x30, tbsContent)
        let signature = try! issuer.key.signature(for: tbs)
        return tlv(0x30, tbs + ecdsaWithSHA256 + tlv(0x03, [0] + Array(signature.derRepresentation)))
    }

    // MARK: The hierarchy

    let root: Issued
    let processorCA: Issued
    let pck: Issued
    let tcbSigning: Issued
    let realCollateral: IntelCollateral
    let realQuote: IntelQuote

    /// - Parameters: `pckUsage` / `caUsage` / `tcbUsage` override the key usages Intel's certificates carry.
    init(pckUsage: KeyUsage? = KeyUsage(digitalSignature: true, nonRepudiation: true),
         caUsage: KeyUsage? = KeyUsage(keyCertSign: true, cRLSign: true)) throws {
        realQuote = try IntelQuote(bytes: Samples.sgxQuote())
        realCollateral = try Samples.sgxCollateral()
        let realPCK = try CertificateChain.certificate(PEM.certificates(bytes: realQuote.pckCertificateChainPEM)[0], "pck")
        guard let sgxExtension = realPCK.extensions.first(where: { $0.oid.description == PCKExtension.oid }) else {
            throw TestPKIFailure("the sample PCK has no SGX extension")
        }
        root = Self.issue("Intel SGX Root CA", by: nil, serial: [0x10], pathLength: 1, usage: KeyUsage(keyCertSign: true, cRLSign: true))
        processorCA = Self.issue("Intel SGX PCK Processor CA", by: root, serial: [0x11], pathLength: 0, usage: caUsage)
        pck = Self.issue("Intel SGX PCK Certificate", by: processorCA, serial: [0x12, 0x34], usage: pckUsage, extra: [sgxExtension])
        tcbSigning = Self.issue("Intel SGX TCB Signing", by: root, serial: [0x13], usage: KeyUsage(digitalSignature: true, nonRepudiation: true))
    }

    var anchors: TrustAnchors {
        let production = TrustAnchors.production
        return TrustAnchors(intelRootCA: root.der, amdCertificates: production.amdCertificates, nitroRoot: production.nitroRoot)
    }

    var verifier: EvidenceVerifier { EvidenceVerifier(trustAnchors: anchors) }

    /// The sample quote under this PKI: the test PCK chain, and the QE report signed by the test PCK key.
    func quote(chain: [Issued]? = nil) throws -> [UInt8] {
        let bytes = try Samples.sgxQuote()
        let signature = try pck.key.signature(for: realQuote.qeReport.encoded).rawRepresentation
        guard let at = bytes.firstRange(of: realQuote.qeReportSignature) else { throw TestPKIFailure("QE report signature not found") }
        var resigned = bytes
        resigned.replaceSubrange(at, with: signature)
        let ders = (chain ?? [pck, processorCA, root]).map(\.der)
        guard let rerooted = IntelQuoteSurgery.replacingPCKChain(resigned, carriedPEM: realQuote.pckCertificateChainPEM, with: ders) else {
            throw TestPKIFailure("PCK chain not replaced")
        }
        return rerooted
    }

    /// The sample's collateral under this PKI, each piece signed by the key Intel would use unless overridden.
    func collateral(
        tcbInfoSigner: Issued? = nil, tcbInfoChain: [Issued]? = nil, qeIdentitySigner: Issued? = nil, qeIdentityChain: [Issued]? = nil,
        pckCRLIssuer: Issued? = nil, pckCRLChain: [Issued]? = nil, revoked: [[UInt8]] = [], qeIdentityJSON: [UInt8]? = nil
    ) throws -> IntelCollateral {
        let qeJSON = qeIdentityJSON ?? realCollateral.qeIdentityJSON
        let tcbSigner = tcbInfoSigner ?? tcbSigning
        let qeSigner = qeIdentitySigner ?? tcbSigning
        let crlIssuer = pckCRLIssuer ?? processorCA
        return IntelCollateral(
            pckCRLIssuerChainPEM: Self.pem((pckCRLChain ?? [crlIssuer, root]).map(\.der)),
            rootCACRL: Self.crl(by: root), pckCRL: Self.crl(by: crlIssuer, revoked: revoked),
            tcbInfoIssuerChainPEM: Self.pem((tcbInfoChain ?? [tcbSigner, root]).map(\.der)),
            tcbInfoJSON: realCollateral.tcbInfoJSON,
            tcbInfoSignature: Array(try tcbSigner.key.signature(for: realCollateral.tcbInfoJSON).rawRepresentation),
            qeIdentityIssuerChainPEM: Self.pem((qeIdentityChain ?? [qeSigner, root]).map(\.der)),
            qeIdentityJSON: qeJSON,
            qeIdentitySignature: Array(try qeSigner.key.signature(for: qeJSON).rawRepresentation))
    }
}

struct TestPKIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
