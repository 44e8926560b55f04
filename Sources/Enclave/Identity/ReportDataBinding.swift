import Crypto
import Secp256k1

/// How a node binds its identity key and a verifier's nonce into the report data of its evidence.
///
/// `reportData = SHA-512("darknode/report-data/v1" ‖ compressed identity public key (33 bytes) ‖ nonce)`, truncated
/// to the platform's report-data size (64 bytes everywhere today, so the whole digest). The domain string keeps
/// these bytes from ever meaning anything else; the fixed-size key before the nonce makes the encoding unambiguous.
/// The Attestation module's verifier recomputes exactly this.
public enum ReportDataBinding {
    public static let domain: [UInt8] = Array("darknode/report-data/v1".utf8)
    /// A nonce longer than this is refused: verifiers use 32 bytes, and the limit keeps requests small.
    public static let nonceLengthMax = 1024

    /// The report data for `identityKey` and `nonce`, `size` bytes long (at most 64).
    public static func reportData(identityKey: PublicKey, nonce: [UInt8], size: Int = 64) throws(EnclaveError)
        -> [UInt8]
    {
        guard nonce.count <= nonceLengthMax else {
            throw .invalidReportDataLength(expected: nonceLengthMax, actual: nonce.count)
        }
        guard size > 0, size <= 64 else { throw .invalidReportDataLength(expected: 64, actual: size) }
        var hasher = SHA512()
        hasher.update(data: domain)
        hasher.update(data: identityKey.compressed)
        hasher.update(data: nonce)
        return Array(Array(hasher.finalize()).prefix(size))
    }
}
