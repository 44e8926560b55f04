import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1

/// An AMD SEV certificate (ARK, ASK, ASVK, VCEK, VLEK), walked by hand with swift-asn1 because
/// swift-certificates rejects RSASSA-PSS signature algorithms, which AMD uses for every certificate.
///
/// Only what verification needs is kept: the exact TBS bytes, names (as DER, compared byte for byte),
/// validity, the SubjectPublicKeyInfo, the extensions, and the signature with its algorithm parameters.
struct AMDCertificate: Sendable {
    static let rsassaPSS = "1.2.840.113549.1.1.10"
    static let sha384 = "2.16.840.1.101.3.4.2.2"
    static let mgf1 = "1.2.840.113549.1.1.8"
    static let rsaEncryption = "1.2.840.113549.1.1.1"
    static let ecPublicKey = "1.2.840.10045.2.1"

    let der: [UInt8]
    let tbsBytes: [UInt8]
    /// The serial number without leading zero bytes (how CRL entries are compared).
    let serialNumber: [UInt8]
    let issuerDER: [UInt8]
    let subjectDER: [UInt8]
    let subjectCommonName: String
    let notBefore: Date
    let notAfter: Date
    let spkiDER: [UInt8]
    let keyAlgorithmOID: String
    /// Extension OID → (critical, extnValue contents).
    let extensions: [String: (critical: Bool, value: [UInt8])]
    let signature: [UInt8]

    init(der: [UInt8], name: String) throws(AttestationError) {
        func fail(_ d: String) -> AttestationError { .malformedCertificate(which: name, detail: d) }
        self.der = der
        let root = try DERWalk.parse(der, name)
        guard root.encodedBytes.count == der.count else { throw fail("trailing bytes") }
        let top = try DERWalk.sequence(root, name)
        guard top.count == 3 else { throw fail("Certificate must have 3 elements") }
        tbsBytes = Array(top[0].encodedBytes)
        try AMDCertificate.checkPSSAlgorithm(top[1], name)
        guard let bits = try? ASN1BitString(derEncoded: top[2]), bits.paddingBits == 0 else { throw fail("bad signature BIT STRING") }
        signature = Array(bits.bytes)

        var tbs = try DERWalk.sequence(top[0], name)[...]
        guard let first = tbs.first else { throw fail("empty TBSCertificate") }
        if first.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) { tbs = tbs.dropFirst() }
        guard tbs.count >= 6 else { throw fail("TBSCertificate too short") }
        let serial = tbs.removeFirst()
        guard serial.identifier == .integer, case .primitive(let serialBytes) = serial.content else { throw fail("bad serial number") }
        serialNumber = DERWalk.normalisedInteger(serialBytes)
        let innerAlgorithm = tbs.removeFirst()
        guard innerAlgorithm.encodedBytes == top[1].encodedBytes else { throw fail("inner and outer signature algorithms differ") }
        let issuer = tbs.removeFirst()
        guard issuer.identifier == .sequence else { throw fail("issuer is not a Name") }
        issuerDER = Array(issuer.encodedBytes)
        let validity = try DERWalk.sequence(tbs.removeFirst(), name)
        guard validity.count == 2 else { throw fail("bad validity") }
        notBefore = try DERWalk.time(validity[0], name)
        notAfter = try DERWalk.time(validity[1], name)
        let subject = tbs.removeFirst()
        guard subject.identifier == .sequence else { throw fail("subject is not a Name") }
        subjectDER = Array(subject.encodedBytes)
        subjectCommonName = AMDCertificate.commonName(subject) ?? ""
        let spki = tbs.removeFirst()
        spkiDER = Array(spki.encodedBytes)
        let spkiParts = try DERWalk.sequence(spki, name)
        guard spkiParts.count == 2, let algorithm = spkiParts.first, let algorithmOID = try DERWalk.sequence(algorithm, name).first else {
            throw fail("bad SubjectPublicKeyInfo")
        }
        keyAlgorithmOID = try DERWalk.oid(algorithmOID, name)
        var extensions: [String: (critical: Bool, value: [UInt8])] = [:]
        for node in tbs {
            guard node.identifier == ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific) else { continue }  // issuer/subject unique ids
            let wrapper = try DERWalk.children(node, name)
            guard wrapper.count == 1 else { throw fail("bad extensions wrapper") }
            for ext in try DERWalk.sequence(wrapper[0], name) {
                let parts = try DERWalk.sequence(ext, name)
                guard parts.count == 2 || parts.count == 3 else { throw fail("bad extension") }
                let oid = try DERWalk.oid(parts[0], name)
                var critical = false
                if parts.count == 3 {
                    guard let c = try? Bool(derEncoded: parts[1]) else { throw fail("bad critical flag") }
                    critical = c
                }
                guard let value = try? ASN1OctetString(derEncoded: parts[parts.count - 1]) else { throw fail("bad extnValue") }
                guard extensions[oid] == nil else { throw fail("duplicate extension \(oid)") }
                extensions[oid] = (critical, Array(value.bytes))
            }
        }
        self.extensions = extensions
    }

    /// Requires RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt (what swift-crypto's `.PSS` does).
    ///
    /// `RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0], maskGenAlgorithm [1], saltLength [2], trailerField [3] }`
    /// (RFC 4055 §3.1), each field optional, explicit, at most once and in order. Every element count is checked
    /// before it is indexed: hostile parameters such as `[0] { SEQUENCE {} }` are typed errors, never traps.
    static func checkPSSAlgorithm(_ node: ASN1Node, _ name: String) throws(AttestationError) {
        func fail(_ d: String) -> AttestationError { .malformedCertificate(which: name, detail: d) }
        let parts = try DERWalk.sequence(node, name)
        guard parts.count == 2, try DERWalk.oid(parts[0], name) == rsassaPSS else { throw fail("signature algorithm is not RSASSA-PSS") }
        var hash: String?, mgfHash: String?, salt = 20
        var lastTag: UInt = 0
        var seen = false
        for field in try DERWalk.sequence(parts[1], name) {
            guard field.identifier.tagClass == .contextSpecific, field.identifier.tagNumber <= 3 else { throw fail("unknown PSS parameter") }
            guard !seen || field.identifier.tagNumber > lastTag else { throw fail("PSS parameters repeated or out of order") }
            (seen, lastTag) = (true, field.identifier.tagNumber)
            let inner = try DERWalk.children(field, name, count: 1)[0]
            switch field.identifier.tagNumber {
            case 0: hash = try DERWalk.hashAlgorithmOID(inner, name)
            case 1:
                let mgf = try DERWalk.sequence(inner, name)
                guard mgf.count == 2, try DERWalk.oid(mgf[0], name) == mgf1 else { throw fail("PSS mask generation is not MGF1") }
                mgfHash = try DERWalk.hashAlgorithmOID(mgf[1], name)
            case 2:
                guard let s = try? Int(derEncoded: inner) else { throw fail("bad PSS salt length") }
                salt = s
            default:
                guard let t = try? Int(derEncoded: inner), t == 1 else { throw fail("bad PSS trailer field") }
            }
        }
        guard hash == sha384, mgfHash == sha384, salt == 48 else { throw fail("PSS parameters are not SHA-384/MGF1-SHA-384/salt 48") }
    }

    static func commonName(_ name: ASN1Node) -> String? {
        guard case .constructed(let rdns) = name.content else { return nil }
        for rdn in rdns {
            guard case .constructed(let attributes) = rdn.content else { continue }
            for attribute in attributes {
                guard case .constructed(let pair) = attribute.content else { continue }
                let p = Array(pair)
                guard p.count == 2, (try? ASN1ObjectIdentifier(derEncoded: p[0]))?.description == "2.5.4.3" else { continue }
                if let s = try? ASN1UTF8String(derEncoded: p[1]) { return String(s) }
                if let s = try? ASN1PrintableString(derEncoded: p[1]) { return String(s) }
                if let s = try? ASN1IA5String(derEncoded: p[1]) { return String(s) }
            }
        }
        return nil
    }

    /// Whether `issuer`'s RSA key signed this certificate (RSASSA-PSS, SHA-384, salt 48).
    func isSigned(by issuer: AMDCertificate) -> Bool {
        guard issuer.keyAlgorithmOID == AMDCertificate.rsaEncryption, subjectIssuerMatches(issuer),
              let key = try? _RSA.Signing.PublicKey(derRepresentation: issuer.spkiDER)
        else { return false }
        return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA384.hash(data: tbsBytes), padding: .PSS)
    }

    func subjectIssuerMatches(_ issuer: AMDCertificate) -> Bool { issuerDER == issuer.subjectDER }

    func checkValidity(at time: Date) throws(AttestationError) {
        guard notBefore <= time, time <= notAfter else {
            throw .certificateNotValidAt(subject: subjectCommonName, notBefore: notBefore, notAfter: notAfter, time: time)
        }
    }

    /// An INTEGER-valued VCEK extension (the SPLs and structVersion).
    func integerExtension(_ oid: String) -> Int? {
        guard let value = extensions[oid]?.value, let node = try? DER.parse(value), let v = try? Int(derEncoded: node) else { return nil }
        return v
    }

    /// An IA5String-valued extension (productName).
    func stringExtension(_ oid: String) -> String? {
        guard let value = extensions[oid]?.value, let node = try? DER.parse(value) else { return nil }
        if let s = try? ASN1IA5String(derEncoded: node) { return String(s) }
        if let s = try? ASN1UTF8String(derEncoded: node) { return String(s) }
        return nil
    }
}
