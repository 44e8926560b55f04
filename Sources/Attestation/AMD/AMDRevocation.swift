import Crypto
import _CryptoExtras
import Foundation
import SwiftASN1
import X509

/// AMD KDS revocation (`GET /vcek/v1/{product}/crl`): one DER CRL per product line, issued and signed by that
/// product's ARK with RSASSA-PSS SHA-384. It is how AMD withdraws an ASK/ASVK (and with it every VCEK under it);
/// a listed VCEK serial is refused too.
extension CertificateRevocationList {
    /// Checks that `ark` issued this CRL: issuer Name equal to the ARK's subject byte for byte, the ARK allowed to
    /// sign CRLs (keyUsage cRLSign), RSASSA-PSS SHA-384/MGF1-SHA-384/salt 48 exactly as AMD's certificates, a valid
    /// signature under the ARK's key, and `time` inside thisUpdate...nextUpdate.
    func validate(ark: AMDCertificate, at time: Date, name: String) throws(AttestationError) {
        func fail(_ detail: String) -> AttestationError { .crlInvalid(which: name, detail: detail) }
        guard issuerDER == ark.subjectDER else { throw fail("issuer is not \(ark.subjectCommonName)") }
        guard let usage = ark.extensions["2.5.29.15"],
              let keyUsage = try? KeyUsage(Certificate.Extension(oid: .X509ExtensionID.keyUsage, critical: usage.critical, value: usage.value[...])),
              keyUsage.cRLSign
        else { throw fail("issuer \(ark.subjectCommonName) lacks the cRLSign key usage") }
        do {
            try AMDCertificate.checkPSSAlgorithm(try DERWalk.parse(signatureAlgorithmDER, name), name)
        } catch {
            throw fail("signature algorithm is not RSASSA-PSS SHA-384 (\(error))")
        }
        guard ark.keyAlgorithmOID == AMDCertificate.rsaEncryption, let key = try? _RSA.Signing.PublicKey(derRepresentation: ark.spkiDER),
              key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA384.hash(data: tbsBytes), padding: .PSS)
        else { throw fail("signature invalid under \(ark.subjectCommonName)") }
        try checkWindow(at: time, name: name)
    }

    /// Whether `certificate`'s serial is listed (AMD's CRL is the ARK's; serials of the ASK it issued and of the
    /// VCEKs under that ASK are both compared).
    func lists(_ certificate: AMDCertificate) -> Bool { revokedSerials.contains(certificate.serialNumber) }
}

extension SNPVerifier {
    /// Applies every supplied CRL issued under `chain.ark`'s name (CRLs of other product lines are skipped). Returns
    /// whether at least one was checked, so a policy can require revocation to have been checked.
    static func checkRevocation(crls: [[UInt8]], ark: AMDCertificate, intermediate: AMDCertificate, endorsement: AMDCertificate,
                                at time: Date) throws(AttestationError) -> Bool {
        var checked = false
        for (i, der) in crls.enumerated() {
            let name = "AMD CRL \(i)"
            let crl = try CertificateRevocationList(der: der, name: name)
            guard crl.issuerDER == ark.subjectDER else { continue }
            try crl.validate(ark: ark, at: time, name: name)
            for certificate in [intermediate, endorsement] where crl.lists(certificate) {
                throw .certificateRevoked(subject: certificate.subjectCommonName, serial: certificate.serialNumber.hexString)
            }
            checked = true
        }
        return checked
    }
}
