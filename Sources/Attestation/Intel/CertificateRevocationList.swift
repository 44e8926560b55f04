import Foundation
import X509
import SwiftASN1

/// An X.509 CRL (RFC 5280 §5), parsed by hand because swift-certificates has no CRL type. Intel's PCK and root
/// CRLs (ECDSA, `validate(issuer:at:name:)`) and AMD's KDS CRLs (RSASSA-PSS, `validate(ark:at:name:)`) share it.
///
/// `CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }` and
/// `TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer Name, thisUpdate Time,
/// nextUpdate Time OPTIONAL, revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER,
/// revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL, crlExtensions [0] EXPLICIT OPTIONAL }`.
struct CertificateRevocationList: Sendable {
    let issuer: DistinguishedName
    /// The issuer Name exactly as encoded (AMD names are compared byte for byte, as `AMDCertificate` does).
    let issuerDER: [UInt8]
    let thisUpdate: Date
    let nextUpdate: Date?
    /// Revoked serial numbers, without leading zero bytes.
    let revokedSerials: Set<[UInt8]>
    let tbsBytes: [UInt8]
    let signatureAlgorithmOID: String
    /// The whole outer AlgorithmIdentifier (its RSASSA-PSS parameters matter for AMD).
    let signatureAlgorithmDER: [UInt8]
    /// The DER ECDSA signature (BIT STRING contents).
    let signature: [UInt8]

    static let ecdsaWithSHA256 = "1.2.840.10045.4.3.2"

    init(der: [UInt8], name: String) throws(AttestationError) {
        func fail(_ detail: String) -> AttestationError { .crlInvalid(which: name, detail: detail) }
        let root: ASN1Node
        do { root = try DER.parse(der) } catch { throw fail("not DER: \(error)") }
        guard root.encodedBytes.count == der.count else { throw fail("trailing bytes") }
        let top = try Self.sequence(root, fail)
        guard top.count == 3 else { throw fail("CertificateList must have 3 elements") }
        tbsBytes = Array(top[0].encodedBytes)
        let algorithm = try Self.sequence(top[1], fail)
        guard let algOID = algorithm.first, let oid = try? ASN1ObjectIdentifier(derEncoded: algOID) else { throw fail("bad signature algorithm") }
        signatureAlgorithmOID = oid.description
        signatureAlgorithmDER = Array(top[1].encodedBytes)
        guard let bits = try? ASN1BitString(derEncoded: top[2]), bits.paddingBits == 0 else { throw fail("bad signature BIT STRING") }
        signature = Array(bits.bytes)

        var fields = try Self.sequence(top[0], fail)[...]
        if let first = fields.first, first.identifier == .integer { fields = fields.dropFirst() }  // version v2
        guard fields.count >= 3 else { throw fail("tbsCertList too short") }
        let innerAlgorithm = fields.removeFirst()
        guard innerAlgorithm.encodedBytes == top[1].encodedBytes else { throw fail("inner and outer signature algorithms differ") }
        let issuerNode = fields.removeFirst()
        issuerDER = Array(issuerNode.encodedBytes)
        do { issuer = try DistinguishedName(derEncoded: issuerNode) } catch { throw fail("bad issuer") }
        do { thisUpdate = try DERWalk.time(fields.removeFirst(), name) } catch { throw fail("bad thisUpdate") }
        var next: Date?
        if let n = fields.first, n.identifier == UTCTime.defaultIdentifier || n.identifier == GeneralizedTime.defaultIdentifier {
            do { next = try DERWalk.time(fields.removeFirst(), name) } catch { throw fail("bad nextUpdate") }
        }
        nextUpdate = next
        var serials = Set<[UInt8]>()
        if let list = fields.first, list.identifier == .sequence {
            fields.removeFirst()
            for entry in try Self.children(list, fail) {
                let parts = try Self.sequence(entry, fail)
                guard parts.count >= 2, parts[0].identifier == .integer, case .primitive(let serial) = parts[0].content else { throw fail("bad revoked entry") }
                serials.insert(DERWalk.normalisedInteger(serial))
            }
        }
        revokedSerials = serials
        if let extensions = fields.first {
            guard extensions.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) else { throw fail("unexpected field after revokedCertificates") }
            fields.removeFirst()
        }
        guard fields.isEmpty else { throw fail("trailing fields in tbsCertList") }
    }

    /// The children of a universal SEQUENCE (a retagged one is not the structure it imitates).
    private static func sequence(_ node: ASN1Node, _ fail: (String) -> AttestationError) throws(AttestationError) -> [ASN1Node] {
        guard node.identifier == .sequence else { throw fail("expected a SEQUENCE, found \(node.identifier)") }
        return try children(node, fail)
    }

    private static func children(_ node: ASN1Node, _ fail: (String) -> AttestationError) throws(AttestationError) -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else { throw fail("expected a SEQUENCE") }
        return Array(nodes)
    }

    /// Checks the issuer, signature and update window.
    func validate(issuer issuerCert: Certificate, at time: Date, name: String) throws(AttestationError) {
        guard issuer == issuerCert.subject else { throw .crlInvalid(which: name, detail: "issuer \(issuer) is not \(issuerCert.subject)") }
        guard let usage = try? issuerCert.extensions.keyUsage, usage.cRLSign else {
            throw .crlInvalid(which: name, detail: "issuer \(issuerCert.subject) lacks the cRLSign key usage")
        }
        guard signatureAlgorithmOID == Self.ecdsaWithSHA256,
              issuerCert.publicKey.isValidSignature(signature, for: tbsBytes, signatureAlgorithm: .ecdsaWithSHA256)
        else { throw .crlInvalid(which: name, detail: "signature invalid") }
        try checkWindow(at: time, name: name)
    }

    /// thisUpdate ≤ time ≤ nextUpdate (when given).
    func checkWindow(at time: Date, name: String) throws(AttestationError) {
        guard thisUpdate <= time else { throw .crlInvalid(which: name, detail: "thisUpdate \(thisUpdate.formatted(.iso8601)) is after the verification time") }
        if let nextUpdate, time > nextUpdate {
            throw .crlInvalid(which: name, detail: "expired at nextUpdate \(nextUpdate.formatted(.iso8601))")
        }
    }

    func isRevoked(_ cert: Certificate) -> Bool {
        cert.issuer == issuer && revokedSerials.contains(DERWalk.normalisedInteger(cert.serialNumber.bytes))
    }
}
