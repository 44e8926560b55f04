/// An AMD SEV-SNP attestation report (SEV Secure Nested Paging Firmware ABI, table "ATTESTATION_REPORT"):
/// 1184 bytes, versions 2 and 3, signed with ECDSA P-384/SHA-384 by the chip's VCEK or a VLEK.
public struct SNPReport: Sendable, Hashable {
    public static let size = 0x4A0
    public static let signedSize = 0x2A0

    /// A TCB_VERSION: security patch levels of the firmware components (Milan/Genoa layout).
    public struct TCBVersion: Sendable, Hashable {
        public let raw: [UInt8]
        public var bootloader: UInt8 { raw[0] }
        public var tee: UInt8 { raw[1] }
        public var snp: UInt8 { raw[6] }
        public var microcode: UInt8 { raw[7] }
    }

    /// Which key signed the report (signer info bits 4:2).
    public enum SigningKey: Sendable, Hashable {
        case vcek, vlek
    }

    public let version: UInt32
    public let guestSVN: UInt32
    public let policy: UInt64
    public let familyID: [UInt8]
    public let imageID: [UInt8]
    public let vmpl: UInt32
    public let signatureAlgorithm: UInt32
    public let currentTCB: TCBVersion
    public let platformInfo: UInt64
    public let signerInfo: UInt32
    public let reportData: [UInt8]
    public let measurement: [UInt8]
    public let hostData: [UInt8]
    public let idKeyDigest: [UInt8]
    public let authorKeyDigest: [UInt8]
    public let reportID: [UInt8]
    public let reportIDMigrationAgent: [UInt8]
    /// The TCB the VCEK was derived for: compare with the certificate's SPL extensions.
    public let reportedTCB: TCBVersion
    /// v3+: CPUID family, model, stepping (zero in v2).
    public let cpuid: [UInt8]
    public let chipID: [UInt8]
    public let committedTCB: TCBVersion
    public let currentBuild: UInt8, currentMinor: UInt8, currentMajor: UInt8
    public let committedBuild: UInt8, committedMinor: UInt8, committedMajor: UInt8
    public let launchTCB: TCBVersion
    /// Signature r and s, converted to big-endian 48-byte integers (the report stores 72-byte little-endian fields).
    public let signatureR: [UInt8]
    public let signatureS: [UInt8]
    /// report[0..<0x2A0]: exactly what the signature covers.
    public let signedBytes: [UInt8]

    /// POLICY bit 19: the hypervisor may debug the guest (read and write its memory).
    public var isDebug: Bool { policy & (1 << 19) != 0 }
    public var signingKey: SigningKey { (signerInfo >> 2) & 0x7 == 1 ? .vlek : .vcek }
    /// Signer info bit 1, MASK_CHIP_KEY: the firmware was told not to use the chip key (VCEK) for reports or key
    /// derivation, so a VCEK cannot have signed this report.
    public var isChipKeyMasked: Bool { signerInfo & 0x2 != 0 }
    /// CHIP_ID reads as zero when the host set MASK_CHIP_ID (nothing in the report says so otherwise).
    public var isChipIDMasked: Bool { chipID.isAllZero }

    public init(bytes input: some Collection<UInt8>) throws(EvidenceParseError) {
        let bytes = Array(input)
        let name = "SNP report"
        guard bytes.count >= 4 else { throw .truncated(structure: name, field: "VERSION", needed: 4, available: bytes.count) }
        version = UInt32(bytes.littleEndianValue(at: 0, width: 4))
        guard version == 2 || version == 3 else { throw .unsupportedVersion(structure: name, version: version) }
        guard bytes.count >= Self.size else { throw .truncated(structure: name, field: "report", needed: Self.size, available: bytes.count) }
        guard bytes.count == Self.size else { throw .trailingBytes(structure: name, count: bytes.count - Self.size) }
        var r = ByteReader(bytes, offset: 4, context: name)
        guestSVN = try r.u32("GUEST_SVN")
        policy = try r.u64("POLICY")
        familyID = try r.read(16, "FAMILY_ID")
        imageID = try r.read(16, "IMAGE_ID")
        vmpl = try r.u32("VMPL")
        signatureAlgorithm = try r.u32("SIGNATURE_ALGO")
        guard signatureAlgorithm == 1 else { throw .invalidField(structure: name, field: "SIGNATURE_ALGO", detail: "\(signatureAlgorithm), expected 1 (ECDSA P-384 SHA-384)") }
        currentTCB = TCBVersion(raw: try r.read(8, "CURRENT_TCB"))
        platformInfo = try r.u64("PLATFORM_INFO")
        signerInfo = try r.u32("signer info")
        guard signerInfo & ~UInt32(0x1F) == 0 else { throw .nonZeroReserved(structure: name, field: "signer info") }
        let signingKeyField = (signerInfo >> 2) & 0x7
        guard signingKeyField == 0 || signingKeyField == 1 else {
            throw .invalidField(structure: name, field: "SIGNING_KEY", detail: "\(signingKeyField) (0 = VCEK, 1 = VLEK; 7 = unsigned)")
        }
        guard try r.read(4, "reserved0").isAllZero else { throw .nonZeroReserved(structure: name, field: "0x4C") }
        reportData = try r.read(64, "REPORT_DATA")
        measurement = try r.read(48, "MEASUREMENT")
        hostData = try r.read(32, "HOST_DATA")
        idKeyDigest = try r.read(48, "ID_KEY_DIGEST")
        authorKeyDigest = try r.read(48, "AUTHOR_KEY_DIGEST")
        reportID = try r.read(32, "REPORT_ID")
        reportIDMigrationAgent = try r.read(32, "REPORT_ID_MA")
        reportedTCB = TCBVersion(raw: try r.read(8, "REPORTED_TCB"))
        let cpuid = try r.read(3, "CPUID")
        self.cpuid = cpuid
        if version == 2, !cpuid.isAllZero { throw .nonZeroReserved(structure: name, field: "0x188 (v2)") }
        guard try r.read(0x1A0 - 0x18B, "reserved1").isAllZero else { throw .nonZeroReserved(structure: name, field: "0x18B") }
        chipID = try r.read(64, "CHIP_ID")
        committedTCB = TCBVersion(raw: try r.read(8, "COMMITTED_TCB"))
        let current = try r.read(4, "CURRENT version")
        (currentBuild, currentMinor, currentMajor) = (current[0], current[1], current[2])
        let committed = try r.read(4, "COMMITTED version")
        (committedBuild, committedMinor, committedMajor) = (committed[0], committed[1], committed[2])
        launchTCB = TCBVersion(raw: try r.read(8, "LAUNCH_TCB"))
        guard try r.read(0x2A0 - 0x1F8, "reserved2").isAllZero else { throw .nonZeroReserved(structure: name, field: "0x1F8") }
        let rLE = try r.read(72, "signature R")
        let sLE = try r.read(72, "signature S")
        guard rLE[48...].allSatisfy({ $0 == 0 }), sLE[48...].allSatisfy({ $0 == 0 }) else {
            throw .invalidField(structure: name, field: "signature", detail: "R or S exceeds 48 bytes")
        }
        signatureR = Array(rLE[0..<48].reversed())
        signatureS = Array(sLE[0..<48].reversed())
        signedBytes = Array(bytes[0..<Self.signedSize])
    }
}
