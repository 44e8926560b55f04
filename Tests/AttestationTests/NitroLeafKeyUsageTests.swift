import Crypto
import Foundation
import SwiftASN1
import Testing
import TestSupport
import X509

@testable import Attestation

/// The Nitro leaf signs the COSE document, so it must carry the digitalSignature key usage (issue 17, "leaf key
/// usage checked"). The real document is re-rooted: its certificate and CA bundle are replaced by a test root and a
/// P-384 test leaf with the key usage under test, and the COSE_Sign1 is re-signed by that leaf; the payload's other
/// fields (PCRs, user data, timestamp) are the sample's own.
@Suite(.dedicatedThread) struct NitroLeafKeyUsageTests {
    static func encode(_ value: CBORValue) -> [UInt8] {
        switch value {
        case .unsigned(let n): return CBOREncoder.head(0, n)
        case .negative(let n): return CBOREncoder.head(1, n)
        case .bytes(let b): return CBOREncoder.bytes(b)
        case .text(let t): return CBOREncoder.head(3, UInt64(t.utf8.count)) + Array(t.utf8)
        case .array(let items): return CBOREncoder.head(4, UInt64(items.count)) + items.flatMap(encode)
        case .map(let entries): return CBOREncoder.head(5, UInt64(entries.count)) + entries.flatMap { encode($0.0) + encode($0.1) }
        case .tagged(let tag, let inner): return CBOREncoder.head(6, tag) + encode(inner)
        case .bool(let b): return [b ? 0xF5 : 0xF4]
        case .null: return [0xF6]
        }
    }

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// (document bytes, test root DER) with a leaf carrying `leafUsage` (nil: no keyUsage extension).
    static func reRooted(leafUsage: KeyUsage?) throws -> (document: [UInt8], root: [UInt8]) {
        let (notBefore, notAfter) = (Samples.time("2020-01-01T00:00:00Z"), Samples.time("2040-01-01T00:00:00Z"))
        let rootKey = P384.Signing.PrivateKey()
        let rootName = try DistinguishedName { CommonName("test Nitro root") }
        let root = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(rootKey.publicKey), notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: rootName, subject: rootName, signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            }, issuerPrivateKey: .init(rootKey))
        let leafKey = P384.Signing.PrivateKey()
        var leafExtensions: [Certificate.Extension] = [try Certificate.Extension(BasicConstraints.notCertificateAuthority, critical: true)]
        if let leafUsage { leafExtensions.append(try Certificate.Extension(leafUsage, critical: true)) }
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey), notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: rootName, subject: try DistinguishedName { CommonName("test Nitro leaf") }, signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try Certificate.Extensions(leafExtensions), issuerPrivateKey: .init(rootKey))

        var outer = try CBORValue.decode(try Samples.nitro())
        if case .tagged(18, let inner) = outer { outer = inner }
        guard case .array(let parts) = outer, parts.count == 4, case .bytes(let payloadBytes) = parts[2],
              case .map(let fields) = try CBORValue.decode(payloadBytes)
        else { throw FixtureProblem() }
        let (rootDER, leafDER) = (try der(root), try der(leaf))
        let payload = encode(.map(fields.map { key, value in
            switch key {
            case .text("certificate"): (key, .bytes(leafDER))
            case .text("cabundle"): (key, .array([.bytes(rootDER)]))
            default: (key, value)
            }
        }))
        let unsigned = encode(.array([parts[0], parts[1], .bytes(payload), .bytes([UInt8](repeating: 0, count: 96))]))
        let signed = try NitroDocument(bytes: unsigned).signedBytes
        let signature = try leafKey.signature(for: signed).rawRepresentation
        return (encode(.array([parts[0], parts[1], .bytes(payload), .bytes(Array(signature))])), rootDER)
    }

    struct FixtureProblem: Error {}

    static func outcome(leafUsage: KeyUsage?) throws -> Result<VerifiedEvidence, AttestationError> {
        let (document, root) = try reRooted(leafUsage: leafUsage)
        let production = TrustAnchors.production
        let verifier = EvidenceVerifier(trustAnchors: TrustAnchors(intelRootCA: production.intelRootCA, amdCertificates: production.amdCertificates, nitroRoot: root))
        return Result { () throws(AttestationError) in try verifier.verify(document, platform: .nitro, at: Samples.nitroTime) }
    }

    /// The re-rooted document verifies when its leaf may sign, and reports the sample's own claims.
    @Test func reRootedDocumentWithASigningLeafVerifies() throws {
        let genuine = try EvidenceVerifier().verify(try Samples.nitro(), platform: .nitro, at: Samples.nitroTime)
        let verified = try Self.outcome(leafUsage: KeyUsage(digitalSignature: true)).get()
        #expect(verified.measurements == genuine.measurements && verified.reportData == genuine.reportData)
    }

    /// A leaf whose key usage does not allow signing (or that has none) may not vouch for a document.
    @Test func leafWithoutDigitalSignatureIsRefused() throws {
        for usage in [KeyUsage(keyCertSign: true), nil] {
            guard case .failure(.leafKeyUsageInvalid) = try Self.outcome(leafUsage: usage) else {
                Issue.record("expected leafKeyUsageInvalid for a leaf with keyUsage \(String(describing: usage))")
                continue
            }
        }
    }
}
