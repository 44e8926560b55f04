import Attestation
import Secp256k1

/// The report data a node puts in its evidence: its identity key and a verifier's nonce, bound exactly as the
/// Attestation module's verifier expects (`Attestation.ReportDataBinding`, the one definition of these bytes):
///
///     SHA-512("darknode/attestation/report-data/v1" ‖ 0x00 ‖ compressed identity key (33) ‖ u8 nonce length ‖ nonce)
///
/// truncated to the platform's report-data size (64 bytes on every supported platform, so the whole digest).
/// Keeping a single definition matters: a node and a verifier that disagree by one byte would reject every node.
public enum IdentityReportData {
    /// The longest nonce the binding encodes (its length is one byte; verifiers use 32).
    public static var nonceLengthMax: Int { ReportDataBinding.maximumNonceLength }

    /// The report data for `identityKey` and `nonce`, `size` bytes long (1...64).
    public static func reportData(identityKey: PublicKey, nonce: [UInt8], size: Int = 64) throws(EnclaveError)
        -> [UInt8]
    {
        guard nonce.count <= nonceLengthMax else { throw .nonceTooLong(maximum: nonceLengthMax, actual: nonce.count) }
        guard size > 0, size <= 64 else { throw .invalidReportDataLength(expected: 64, actual: size) }
        return ReportDataBinding(identityKey: identityKey, nonce: nonce).reportData(size: size)
    }
}
