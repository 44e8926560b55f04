/// The few fields a platform needs from its own evidence: the measurement (to learn "who am I" at start-up) and
/// the report data (to check the platform bound what was asked). This is not verification: signatures,
/// certificate chains and TCB levels are the Attestation module's job, on the verifier's side.
///
/// Offsets follow docs attestation.md §1.2 (SGX report body), §2 (TDX quote v4/v5) and §4 (SNP report).
public struct NativeEvidenceFields: Sendable, Equatable {
    /// The quote or report format version.
    public let version: Int
    /// MRENCLAVE (SGX), MRTD (TDX) or MEASUREMENT (SNP).
    public let measurement: [UInt8]
    /// The 64 report-data bytes.
    public let reportData: [UInt8]
    /// Where the report data starts in the evidence.
    public let reportDataOffset: Int

    static let sgxQuoteHeaderLength = 48
    static let tdxTEEType: UInt32 = 0x81
    static let snpReportLength = 0x4A0

    public init(kind: EnclavePlatformKind, bytes: [UInt8]) throws(EnclaveError) {
        switch kind {
        case .sgxGramine: try self.init(sgxQuote: bytes)
        case .tdx: try self.init(tdxQuote: bytes)
        case .sevSNP: try self.init(snpReport: bytes)
        case .simulated: throw .evidenceMalformed(reason: "simulated evidence is parsed by SimulatedEvidence")
        }
    }

    private init(version: Int, bytes: [UInt8], measurementRange: Range<Int>, reportDataOffset: Int) {
        self.version = version
        self.measurement = Array(bytes[measurementRange])
        self.reportData = Array(bytes[reportDataOffset..<reportDataOffset + 64])
        self.reportDataOffset = reportDataOffset
    }

    private init(sgxQuote bytes: [UInt8]) throws(EnclaveError) {
        let body = NativeEvidenceFields.sgxQuoteHeaderLength
        guard bytes.count >= body + 384 else { throw .evidenceMalformed(reason: "SGX quote shorter than 432 bytes") }
        let version = Int(Self.uint16LE(bytes, 0))
        guard version == 3 || (version == 4 && Self.uint32LE(bytes, 4) == 0) else {
            throw .evidenceMalformed(reason: "SGX quote version \(version)")
        }
        self.init(version: version, bytes: bytes, measurementRange: body + 64..<body + 96, reportDataOffset: body + 320)
    }

    private init(tdxQuote bytes: [UInt8]) throws(EnclaveError) {
        guard bytes.count >= 54 else { throw .evidenceMalformed(reason: "TDX quote shorter than its header") }
        let version = Int(Self.uint16LE(bytes, 0))
        guard Self.uint32LE(bytes, 4) == NativeEvidenceFields.tdxTEEType else {
            throw .evidenceMalformed(reason: "TDX quote TEE type is not 0x81")
        }
        let body: Int
        switch version {
        case 4: body = 48
        case 5:
            let bodyType = Self.uint16LE(bytes, 48)
            guard bodyType == 2 || bodyType == 3 else { throw .evidenceMalformed(reason: "TDX v5 body type \(bodyType)") }
            body = 54
        default: throw .evidenceMalformed(reason: "TDX quote version \(version)")
        }
        guard bytes.count >= body + 584 else { throw .evidenceMalformed(reason: "TDX quote shorter than its TD report") }
        self.init(version: version, bytes: bytes, measurementRange: body + 136..<body + 184, reportDataOffset: body + 520)
    }

    private init(snpReport bytes: [UInt8]) throws(EnclaveError) {
        guard bytes.count >= NativeEvidenceFields.snpReportLength else {
            throw .evidenceMalformed(reason: "SNP report shorter than 0x4A0 bytes")
        }
        let version = Int(Self.uint32LE(bytes, 0))
        guard version >= 2 else { throw .evidenceMalformed(reason: "SNP report version \(version)") }
        self.init(version: version, bytes: bytes, measurementRange: 0x90..<0xC0, reportDataOffset: 0x50)
    }

    static func uint16LE(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func uint32LE(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }
}
