/// Why a platform could not produce evidence or a sealing key, or the node's data directory could not be used.
///
/// Associated values carry paths and sizes, never key material.
public enum EnclaveError: Error, Equatable, Sendable {
    /// A platform file or device could not be read.
    case fileUnreadable(path: String, reason: String)
    /// A platform file or device could not be written.
    case fileUnwritable(path: String, reason: String)
    /// A directory could not be created or removed.
    case directoryFailure(path: String, reason: String)
    /// The report data has the wrong length for this platform.
    case invalidReportDataLength(expected: Int, actual: Int)
    /// The verifier's nonce is longer than the report-data binding encodes.
    case nonceTooLong(maximum: Int, actual: Int)
    /// The platform returned more bytes than any valid evidence has.
    case evidenceTooLarge(path: String, length: Int)
    /// The platform returned bytes that are not evidence of the expected kind.
    case evidenceMalformed(reason: String)
    /// Another writer changed the configfs-tsm report entry while this request used it.
    case generationMismatch(expected: Int, actual: Int)
    /// configfs-tsm names a provider this node does not support.
    case unsupportedProvider(String)
    /// The platform provider changed between start-up and this request.
    case providerChanged(expected: EnclavePlatformKind, actual: EnclavePlatformKind)
    /// Gramine is not set up for DCAP attestation (`attestation_type` is not `dcap`).
    case unsupportedAttestationType(String)
    /// The platform has no sealing key for this policy, or the key material has the wrong size.
    case sealingKeyUnavailable(reason: String)
    /// A simulated-platform secret file exists but is not a valid secret (wrong size or invalid key).
    case simulatedSecretInvalid(path: String)
    /// `auto` found no TEE device; the simulated platform is only used when asked for explicitly.
    case noHardwarePlatform(searched: [String])
    /// The measurement has the wrong length.
    case invalidMeasurementLength(Int)
    /// The release signer identity has the wrong length.
    case invalidSignerLength(Int)
}
