import Foundation

/// Rebuilds an SGX v3 quote with another PCK certificate chain (fuzzing and tests: the chain is outside every
/// signature of the quote, so a changed chain is only caught by chain validation and the QE report signature).
enum IntelQuoteSurgery {
    /// `quote` with the PEM chain it carries (`carriedPEM`, exactly as `IntelQuote.pckCertificateChainPEM`)
    /// replaced by `chain` (DER, leaf first) as NUL-terminated PEM; the certification-data and signature-data
    /// lengths are adjusted. nil when the quote is not an SGX v3 quote carrying `carriedPEM`.
    static func replacingPCKChain(_ quote: [UInt8], carriedPEM: [UInt8], with chain: [[UInt8]]) -> [UInt8]? {
        let signatureDataLengthOffset = IntelQuote.headerSize + 384
        guard quote.count > signatureDataLengthOffset + 4, quote.first == 3, !carriedPEM.isEmpty,
              let range = quote.firstRange(of: carriedPEM), range.lowerBound >= signatureDataLengthOffset + 8
        else { return nil }
        let pem = Array(chain.map { der in
            "-----BEGIN CERTIFICATE-----\n" + Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
                + "\n-----END CERTIFICATE-----\n"
        }.joined().utf8) + [0]
        let delta = pem.count - carriedPEM.count
        var out = Array(quote[..<range.lowerBound]) + pem + Array(quote[range.upperBound...])
        func adjust(_ at: Int) -> Bool {
            let old = (0..<4).reduce(0) { $0 | Int(out[at + $1]) << (8 * $1) }
            let new = old + delta
            guard new >= 0, new <= Int(UInt32.max) else { return false }
            for i in 0..<4 { out[at + i] = UInt8(truncatingIfNeeded: new >> (8 * i)) }
            return true
        }
        guard adjust(range.lowerBound - 4), adjust(signatureDataLengthOffset) else { return nil }
        return out
    }
}
