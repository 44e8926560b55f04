import Foundation
import SwiftASN1
import Testing
import TestSupport

@testable import Attestation

/// Hostile DER that once crashed the verifier (issue 17): every case must end in a typed error.
@Suite(.dedicatedThread) struct HostileDERTests {
    /// DER TLV with a minimal definite length.
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var header = [tag]
        let n = content.count
        if n < 0x80 {
            header.append(UInt8(n))
        } else {
            let bytes = withUnsafeBytes(of: UInt64(n).bigEndian) { Array($0) }.drop(while: { $0 == 0 })
            header.append(0x80 | UInt8(bytes.count))
            header += bytes
        }
        return header + content
    }

    /// The issue's crafted outer algorithm: RSASSA-PSS with parameters `SEQUENCE { [0] { SEQUENCE {} } }`.
    static let emptyHashAlgorithm: [UInt8] = Samples.hex("3011" + "06092a864886f70d01010a" + "3004a0023000")

    /// The real Milan VCEK with its outer signatureAlgorithm replaced by `algorithm`.
    static func vcek(outerAlgorithm algorithm: [UInt8]) throws -> [UInt8] {
        let der = try Samples.snpVCEK()
        let root = try DER.parse(der)
        guard case .constructed(let nodes) = root.content else { throw HostileDERFailure("VCEK is not a SEQUENCE") }
        let top = Array(nodes)
        #expect(top.count == 3)
        return tlv(0x30, Array(top[0].encodedBytes) + algorithm + Array(top[2].encodedBytes))
    }

    struct HostileDERFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// The issue's certificate: once an index-out-of-range trap in `AMDCertificate.checkPSSAlgorithm`.
    @Test func vcekWithEmptyPSSHashAlgorithmIsATypedError() throws {
        let crafted = try Self.vcek(outerAlgorithm: Self.emptyHashAlgorithm)
        #expect(crafted.count > 1000)
        #expect(throws: AttestationError.self) { try AMDCertificate(der: crafted, name: "crafted") }
        let report = try Samples.snpReport()
        do {
            _ = try EvidenceVerifier().verify(report, platform: .sevSNP, collateral: Collateral(certificates: [crafted]), at: Samples.snpTime)
            Issue.record("crafted VCEK accepted")
        } catch {
            guard case .malformedCertificate = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    /// Every empty or truncated shape of the PSS parameters: hash, MGF and MGF hash algorithm identifiers.
    @Test func everyEmptyPSSParameterShapeIsATypedError() throws {
        let pss = Samples.hex("06092a864886f70d01010a")
        let sha384 = Samples.hex("0609608648016503040202")
        let mgf1 = Samples.hex("06092a864886f70d010108")
        let shapes: [[UInt8]] = [
            Self.tlv(0xa0, Self.tlv(0x30, [])),  // [0] hash: SEQUENCE {}
            Self.tlv(0xa0, []),  // [0] {}
            Self.tlv(0xa1, Self.tlv(0x30, mgf1 + Self.tlv(0x30, []))),  // [1] MGF1 with SEQUENCE {} hash
            Self.tlv(0xa1, Self.tlv(0x30, [])),  // [1] SEQUENCE {}
            Self.tlv(0xa1, Self.tlv(0x30, mgf1 + Self.tlv(0x04, sha384))),  // [1] MGF1 with a primitive hash
            Self.tlv(0xa0, Self.tlv(0x04, [])),  // [0] primitive
            Self.tlv(0xa0, Self.tlv(0x30, Self.tlv(0x05, []))),  // [0] SEQUENCE { NULL }: no OID
            Self.tlv(0xa2, Self.tlv(0x30, [])),  // [2] salt: SEQUENCE {}
            Self.tlv(0xa3, []),  // [3] trailer: empty
            Self.tlv(0xa0, Self.tlv(0x30, sha384)) + Self.tlv(0xa0, Self.tlv(0x30, sha384)),  // duplicate [0]
        ]
        for shape in shapes {
            for algorithm in [Self.tlv(0x30, pss + Self.tlv(0x30, shape)), Self.tlv(0x30, pss + shape), Self.tlv(0x30, pss)] {
                let crafted = try Self.vcek(outerAlgorithm: algorithm)
                #expect(throws: AttestationError.self, "\(algorithm.hexString)") { try AMDCertificate(der: crafted, name: "crafted") }
            }
        }
    }
}

/// What the structure-aware fuzzer found on the fixed parsers (issue 17): outer tags that were never checked.
@Suite(.dedicatedThread) struct FuzzerFindingTests {
    /// The Milan VCEK with its outer SEQUENCE tag (0x30) turned into [16] constructed (0xB0): the signature covers only
    /// the TBS, so the wrong tag went unnoticed and the certificate verified. Not DER X.509: refused.
    @Test func vcekWithAWrongOuterTagIsRefused() throws {
        var der = try Samples.snpVCEK()
        #expect(der[0] == 0x30)
        der[0] = 0xB0
        #expect(throws: AttestationError.self) { try AMDCertificate(der: der, name: "retagged") }
        let report = try Samples.snpReport()
        #expect(throws: AttestationError.self) {
            try EvidenceVerifier().verify(report, platform: .sevSNP, collateral: Collateral(certificates: [der]), at: Samples.snpTime)
        }
    }

    /// The root CA CRL with its outer tag turned into [APPLICATION 16] constructed (0x70), once accepted the same way;
    /// and the outer, TBS and signatureAlgorithm SEQUENCEs of a PCK CRL and of the VCEK retagged, one at a time.
    @Test func crlsAndCertificatesWithRetaggedSequencesAreRefused() throws {
        let collateral = try Samples.sgxCollateral()
        var crl = collateral.rootCACRL
        crl[0] = 0x70
        #expect(throws: AttestationError.self) { try CertificateRevocationList(der: crl, name: "retagged") }
        var intel = collateral
        intel.rootCACRL = crl
        let quote = try Samples.sgxQuote()
        #expect(throws: AttestationError.self) { try EvidenceVerifier().verify(quote, collateral: Collateral(intel: intel), at: Samples.sgxTime) }

        for (der, parse) in [
            (collateral.pckCRL, { (b: [UInt8]) throws -> Void in _ = try CertificateRevocationList(der: b, name: "retagged") }),
            (try Samples.snpVCEK(), { (b: [UInt8]) throws -> Void in _ = try AMDCertificate(der: b, name: "retagged") }),
        ] {
            // The outer SEQUENCE, the TBS SEQUENCE and the outer signatureAlgorithm SEQUENCE (pre-order 0, 1, 1 + |TBS|).
            let tree = try DERTreeFuzzer.Node(der: der)
            for index in [0, 1, 1 + tree.node(at: 1).count] {
                #expect(tree.node(at: index).identifier == [0x30])
                var changed = tree
                changed.update(at: index) { $0.identifier = [0xB0] }
                #expect(throws: (any Error).self, "node \(index)") { try parse(changed.encoded) }
            }
        }
    }
}
