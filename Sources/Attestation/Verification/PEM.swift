import SwiftASN1

/// PEM helpers for certificate chains carried as text (Intel quotes and collateral).
public enum PEM {
    /// The DER bytes of every CERTIFICATE block in `text`, in order. Trailing NUL bytes (Intel quotes end their
    /// chains with one) are ignored.
    public static func certificates(_ text: String) throws(AttestationError) -> [[UInt8]] {
        do {
            let documents = try PEMDocument.parseMultiple(pemString: text)
            let ders = documents.filter { $0.discriminator == "CERTIFICATE" }.map { Array($0.derBytes) }
            guard !ders.isEmpty else { throw AttestationError.malformedCertificate(which: "PEM", detail: "no CERTIFICATE block") }
            return ders
        } catch let e as AttestationError {
            throw e
        } catch {
            throw .malformedCertificate(which: "PEM", detail: "\(error)")
        }
    }

    /// `certificates(_:)` for PEM carried as bytes, possibly NUL-terminated.
    public static func certificates(bytes: [UInt8]) throws(AttestationError) -> [[UInt8]] {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0 { end -= 1 }
        guard let text = String(validating: bytes[0..<end], as: UTF8.self) else {
            throw .malformedCertificate(which: "PEM", detail: "not UTF-8")
        }
        return try certificates(text)
    }
}
