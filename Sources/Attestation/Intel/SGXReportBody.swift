/// An SGX enclave report body (`sgx_report_body_t`, 384 bytes): the ISV enclave's report inside an SGX quote,
/// and the Quoting Enclave's report inside every Intel quote's signature data.
public struct SGXReportBody: Sendable, Hashable {
    public static let size = 384

    public let cpuSVN: [UInt8]
    public let miscSelect: UInt32
    public let isvExtendedProductID: [UInt8]
    /// ATTRIBUTES: flags (u64) followed by XFRM (u64), as 16 raw bytes.
    public let attributes: [UInt8]
    public let mrEnclave: [UInt8]
    public let mrSigner: [UInt8]
    public let configID: [UInt8]
    public let isvProductID: UInt16
    public let isvSVN: UInt16
    public let configSVN: UInt16
    public let isvFamilyID: [UInt8]
    public let reportData: [UInt8]
    /// The exact 384 bytes (the QE report signature covers them).
    public let encoded: [UInt8]

    /// ATTRIBUTES.flags.
    public var attributeFlags: UInt64 { attributes.littleEndianValue(at: 0, width: 8) }
    /// ATTRIBUTES.flags bit 1: the enclave runs in debug mode, so its memory is readable by the host.
    public var isDebug: Bool { attributeFlags & 0x2 != 0 }

    init(_ bytes: [UInt8], context: String) throws(EvidenceParseError) {
        var r = ByteReader(bytes, context: context)
        cpuSVN = try r.read(16, "CPUSVN")
        miscSelect = try r.u32("MISCSELECT")
        try r.skip(12, "reserved1")
        isvExtendedProductID = try r.read(16, "ISVEXTPRODID")
        attributes = try r.read(16, "ATTRIBUTES")
        mrEnclave = try r.read(32, "MRENCLAVE")
        try r.skip(32, "reserved2")
        mrSigner = try r.read(32, "MRSIGNER")
        try r.skip(32, "reserved3")
        configID = try r.read(64, "CONFIGID")
        isvProductID = try r.u16("ISVPRODID")
        isvSVN = try r.u16("ISVSVN")
        configSVN = try r.u16("CONFIGSVN")
        try r.skip(42, "reserved4")
        isvFamilyID = try r.read(16, "ISVFAMILYID")
        reportData = try r.read(64, "REPORTDATA")
        guard r.remaining == 0 else { throw .inconsistentLength(structure: context, field: "body", declared: bytes.count, expected: Self.size) }
        encoded = bytes
    }
}

/// A TDX TD report body as carried in a quote: 584 bytes (TDX 1.0) or 648 bytes (TDX 1.5, which appends
/// TEE_TCB_SVN2 and MRSERVICETD). All measurements are SHA-384.
public struct TDReportBody: Sendable, Hashable {
    public static let size10 = 584
    public static let size15 = 648

    public let teeTCBSVN: [UInt8]
    public let mrSeam: [UInt8]
    public let mrSignerSeam: [UInt8]
    public let seamAttributes: [UInt8]
    public let tdAttributes: [UInt8]
    public let xfam: [UInt8]
    public let mrTD: [UInt8]
    public let mrConfigID: [UInt8]
    public let mrOwner: [UInt8]
    public let mrOwnerConfig: [UInt8]
    /// RTMR0 through RTMR3.
    public let rtmrs: [[UInt8]]
    public let reportData: [UInt8]
    /// TDX 1.5 only.
    public let teeTCBSVN2: [UInt8]?
    /// TDX 1.5 only.
    public let mrServiceTD: [UInt8]?

    /// TDATTRIBUTES bit 0: the TD is debuggable (the host can read and write its memory).
    public var isDebug: Bool { tdAttributes[0] & 0x1 != 0 }

    init(_ bytes: [UInt8]) throws(EvidenceParseError) {
        var r = ByteReader(bytes, context: "TD report")
        teeTCBSVN = try r.read(16, "TEE_TCB_SVN")
        mrSeam = try r.read(48, "MRSEAM")
        mrSignerSeam = try r.read(48, "MRSIGNERSEAM")
        seamAttributes = try r.read(8, "SEAMATTRIBUTES")
        tdAttributes = try r.read(8, "TDATTRIBUTES")
        xfam = try r.read(8, "XFAM")
        mrTD = try r.read(48, "MRTD")
        mrConfigID = try r.read(48, "MRCONFIGID")
        mrOwner = try r.read(48, "MROWNER")
        mrOwnerConfig = try r.read(48, "MROWNERCONFIG")
        var rtmrs: [[UInt8]] = []
        for i in 0..<4 { rtmrs.append(try r.read(48, "RTMR\(i)")) }
        self.rtmrs = rtmrs
        reportData = try r.read(64, "REPORTDATA")
        if bytes.count == Self.size15 {
            teeTCBSVN2 = try r.read(16, "TEE_TCB_SVN2")
            mrServiceTD = try r.read(48, "MRSERVICETD")
        } else {
            teeTCBSVN2 = nil
            mrServiceTD = nil
        }
        guard r.remaining == 0 else { throw .inconsistentLength(structure: "TD report", field: "body", declared: bytes.count, expected: Self.size10) }
    }
}
