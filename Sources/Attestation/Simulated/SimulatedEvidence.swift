import Crypto
import Secp256k1

/// Evidence produced by the simulated platform (development and CI only; never a security guarantee).
///
/// It mirrors what real evidence says — "this measurement runs here, and it vouches for these report-data
/// bytes" — signed by a per-machine simulated platform key in place of a hardware root of trust. A policy must
/// opt in to accept it.
///
/// Wire format (203 bytes, all fixed-size):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `DNSIMEV1` |
/// | 8 | 2 | format version, big-endian, currently 1 |
/// | 10 | 32 | measurement (SHA-256 of the enclave executable) |
/// | 42 | 64 | report data chosen by the enclave |
/// | 106 | 33 | compressed secp256k1 platform public key |
/// | 139 | 64 | compact ECDSA signature (low-S) over SHA-256("darknode/simulated-evidence/v1" ‖ bytes 0..<139) |
public struct SimulatedEvidence: Sendable, Hashable {
    public static let magic: [UInt8] = Array("DNSIMEV1".utf8)
    public static let currentVersion: UInt16 = 1
    public static let signedLength = 139
    public static let encodedLength = 203
    public static let signatureDomain: [UInt8] = Array("darknode/simulated-evidence/v1".utf8)

    /// The format version (1).
    public let version: UInt16
    /// SHA-256 of the simulated enclave's executable.
    public let measurement: [UInt8]
    /// The 64 bytes the enclave asked to be bound (see the report-data binding in `AttestationPolicy`).
    public let reportData: [UInt8]
    /// The simulated platform's key (the stand-in for a hardware root of trust).
    public let platformKey: PublicKey
    /// Signature by `platformKey` over the first 139 encoded bytes.
    public let signature: ECDSASignature

    /// The exact encoded bytes this value was parsed from or signed as.
    public let encoded: [UInt8]

    /// Creates and signs evidence with the platform key.
    public static func sign(measurement: [UInt8], reportData: [UInt8], platformKey: PrivateKey) throws(SimulatedEvidenceError)
        -> SimulatedEvidence
    {
        guard measurement.count == 32 else { throw .invalidFieldLength(field: "measurement", length: measurement.count) }
        guard reportData.count == 64 else { throw .invalidFieldLength(field: "reportData", length: reportData.count) }
        var body = magic
        body += [UInt8(currentVersion >> 8), UInt8(currentVersion & 0xFF)]
        body += measurement
        body += reportData
        body += platformKey.publicKey.compressed
        let signature = try! platformKey.signature(for: digest(signedBytes: body))
        return try SimulatedEvidence(bytes: body + signature.compact)
    }

    static func digest(signedBytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: signatureDomain + signedBytes))
    }

    /// Parses the encoding. Trailing bytes, truncation, an unknown version and a malformed key or signature are
    /// typed errors. The signature is not checked here: `isSignatureValid` does that.
    public init(bytes: some Collection<UInt8>) throws(SimulatedEvidenceError) {
        let b = Array(bytes)
        guard b.count >= 10 else { throw .truncated(length: b.count) }
        guard Array(b[0..<8]) == SimulatedEvidence.magic else { throw .badMagic }
        let version = UInt16(b[8]) << 8 | UInt16(b[9])
        guard version == SimulatedEvidence.currentVersion else { throw .unsupportedVersion(version) }
        guard b.count >= SimulatedEvidence.encodedLength else { throw .truncated(length: b.count) }
        guard b.count == SimulatedEvidence.encodedLength else { throw .trailingBytes(count: b.count - SimulatedEvidence.encodedLength) }
        guard let key = try? PublicKey(encoded: b[106..<139]) else { throw .invalidPlatformKey }
        guard let sig = try? ECDSASignature(compact: b[139..<203]) else { throw .invalidSignatureEncoding }
        self.version = version
        self.measurement = Array(b[10..<42])
        self.reportData = Array(b[42..<106])
        self.platformKey = key
        self.signature = sig
        self.encoded = b
    }

    /// Whether `signature` is a valid low-S signature by `platformKey` over the signed bytes.
    public var isSignatureValid: Bool {
        platformKey.isValidSignature(
            signature, for: SimulatedEvidence.digest(signedBytes: Array(encoded[0..<SimulatedEvidence.signedLength])))
    }
}

/// Why simulated evidence could not be parsed.
public enum SimulatedEvidenceError: Error, Equatable, Sendable {
    case truncated(length: Int)
    case badMagic
    case unsupportedVersion(UInt16)
    case trailingBytes(count: Int)
    case invalidPlatformKey
    case invalidSignatureEncoding
    case invalidFieldLength(field: String, length: Int)
}
