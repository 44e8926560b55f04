import Foundation
import Secp256k1
import Testing
import TestSupport

@testable import Attestation

/// The pieces written on swift-asn1 because swift-certificates lacks them: RSASSA-PSS certificates (AMD) and CRLs
/// (Intel), plus the PCK SGX extension and the CBOR subset.
@Suite(.dedicatedThread) struct ASN1PieceTests {
    @Test func amdCertificatesParseAndVerifyWithRSAPSS() throws {
        let anchors = TrustAnchors.production.amdCertificates
        let ask = try AMDCertificate(der: anchors[0], name: "ASK")
        let ark = try AMDCertificate(der: anchors[1], name: "ARK")
        #expect(ask.subjectCommonName == "SEV-Milan" && ark.subjectCommonName == "ARK-Milan")
        #expect(Array(SHA256Digest(ark.der).prefix(8)).hexString == "69d063b45344d26a")
        #expect(ark.isSigned(by: ark) && ask.isSigned(by: ark) && !ark.isSigned(by: ask))
        let vcek = try AMDCertificate(der: Samples.snpVCEK(), name: "VCEK")
        #expect(vcek.subjectCommonName == "SEV-VCEK" && vcek.isSigned(by: ask) && !vcek.isSigned(by: ark))
        #expect(vcek.stringExtension("1.3.6.1.4.1.3704.1.2") == "Milan-B0")
        #expect(vcek.integerExtension("1.3.6.1.4.1.3704.1.3.1") == 3 && vcek.integerExtension("1.3.6.1.4.1.3704.1.3.8") == 115)
        #expect(vcek.notBefore == Samples.time("2023-04-03T00:00:00Z") || vcek.notBefore < Samples.time("2023-04-04T00:00:00Z"))
        // A one-bit change anywhere in the TBS bytes breaks the PSS signature.
        var der = try Samples.snpVCEK()
        let tbsStart = 4 + 4  // SEQUENCE header (4) then the TBS SEQUENCE header (4)
        der[tbsStart + 100] ^= 1
        #expect(!(try AMDCertificate(der: der, name: "tampered")).isSigned(by: ask))
    }

    @Test func nonPSSCertificatesAreRefused() throws {
        #expect(throws: AttestationError.malformedCertificate(which: "Intel root", detail: "signature algorithm is not RSASSA-PSS")) {
            try AMDCertificate(der: TrustAnchors.production.intelRootCA, name: "Intel root")
        }
    }

    @Test func intelPlatformCRLHas44Entries() throws {
        let collateral = try Samples.tdxCollateral()
        let crl = try CertificateRevocationList(der: collateral.pckCRL, name: "PCK CRL")
        #expect(crl.revokedSerials.count == 44)
        let issuer = try CertificateChain.certificate(PEM.certificates(collateral.pckCRLIssuerChainPEM)[0], "issuer")
        try crl.validate(issuer: issuer, at: Samples.tdxTime, name: "PCK CRL")
        var tampered = collateral.pckCRL
        tampered[60] ^= 1
        #expect(throws: AttestationError.self) {
            try CertificateRevocationList(der: tampered, name: "PCK CRL").validate(issuer: issuer, at: Samples.tdxTime, name: "PCK CRL")
        }
        let root = try CertificateRevocationList(der: collateral.rootCACRL, name: "root CRL")
        try root.validate(issuer: CertificateChain.certificate(TrustAnchors.production.intelRootCA, "root"), at: Samples.tdxTime, name: "root CRL")
        do {
            _ = try CertificateRevocationList(der: collateral.pckCRL + [0], name: "PCK CRL")
            Issue.record("trailing byte accepted")
        } catch {
            guard case .crlInvalid(which: "PCK CRL", _) = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test func crlRevocationIsEnforced() throws {
        // Revoking the PCK's own serial: feed a CRL that lists it by checking `isRevoked` against the parsed set.
        let quote = try IntelQuote(bytes: Samples.tdxQuote())
        let pck = try CertificateChain.certificate(PEM.certificates(bytes: quote.pckCertificateChainPEM)[0], "pck")
        let crl = try CertificateRevocationList(der: Samples.tdxCollateral().pckCRL, name: "PCK CRL")
        #expect(!crl.isRevoked(pck))
        #expect(crl.issuer == pck.issuer)
    }

    @Test func cborRejectsIndefiniteLengthsAndDeepNesting() throws {
        #expect(throws: EvidenceParseError.self) { try CBORValue.decode([0x9f, 0x01, 0xff]) }  // indefinite array
        #expect(throws: EvidenceParseError.self) { try CBORValue.decode([UInt8](repeating: 0x81, count: 40) + [0x01]) }
        #expect(throws: EvidenceParseError.self) { try CBORValue.decode([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) }
        #expect(try CBORValue.decode([0xa1, 0x01, 0x38, 0x22]) == .map([(.unsigned(1), .negative(34))]))
        #expect(CBOREncoder.head(2, 300) == [0x59, 0x01, 0x2c])
    }

    @Test func rfc3339AndDERDates() {
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(RFC3339.parse("2024-02-29T12:34:56Z") == Date(timeIntervalSince1970: 1_709_210_096))
        #expect(RFC3339.parse("2024-02-29T12:34:56.123Z") == Date(timeIntervalSince1970: 1_709_210_096))
        #expect(RFC3339.parse("2024-13-01T00:00:00Z") == nil && RFC3339.parse("garbage") == nil)
    }
}

import Crypto
private func SHA256Digest(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
