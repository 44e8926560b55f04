import Crypto
import Secp256k1

/// What a node puts in its evidence's report data so that the evidence vouches for *its identity key* and is
/// *fresh* (answers the verifier's nonce).
///
/// Exact bytes:
///
///     digest = SHA-512( "darknode/attestation/report-data/v1"   (35 ASCII bytes)
///                       ‖ 0x00
///                       ‖ identity public key                  (33 bytes, compressed secp256k1)
///                       ‖ nonce length                         (1 byte, 0...64)
///                       ‖ nonce )
///
/// Every supported platform has 64 bytes of report data (SGX/TDX REPORTDATA, SNP REPORT_DATA, simulated
/// reportData, Nitro `user_data`), so the whole 64-byte digest is used. A platform with a smaller field would take
/// the digest's first `size` bytes (`reportData(size:)`); none does today.
public struct ReportDataBinding: Sendable, Hashable {
    public static let domain: [UInt8] = Array("darknode/attestation/report-data/v1".utf8)
    public static let maximumNonceLength = 64

    /// Empty for a binding made from `expectedReportData`.
    public let identityKey: [UInt8]
    /// Empty for a binding made from `expectedReportData`.
    public let nonce: [UInt8]
    /// The 64 bytes to place in report data.
    public let reportData: [UInt8]

    /// - Precondition: `nonce.count <= 64` (a caller bug otherwise).
    public init(identityKey: PublicKey, nonce: [UInt8]) {
        precondition(nonce.count <= Self.maximumNonceLength, "report-data nonce longer than 64 bytes")
        self.identityKey = identityKey.compressed
        self.nonce = nonce
        var hasher = SHA512()
        hasher.update(data: Self.domain)
        hasher.update(data: [0] + identityKey.compressed + [UInt8(nonce.count)] + nonce)
        self.reportData = Array(hasher.finalize())
    }

    /// A binding whose report data a protocol derived its own way: EKEP binds the identity key to the handshake
    /// transcript (`BoundEvidence.reportData` in SecureChannel), which is not a nonce of at most 64 bytes.
    public init(expectedReportData: [UInt8]) {
        self.identityKey = []
        self.nonce = []
        self.reportData = expectedReportData
    }

    /// The binding fitted to a report-data field of `size` bytes (1...64).
    public func reportData(size: Int) -> [UInt8] {
        Array(reportData.prefix(size))
    }

    /// Whether `verified` carries exactly this binding.
    public func isBound(in verified: VerifiedEvidence) -> Bool {
        verified.reportData == reportData(size: min(64, max(1, verified.reportData.count)))
            && verified.reportData.count == 64
    }
}
