/// An Intel DCAP ECDSA quote: SGX (v3, v4, v5 with an SGX body) or TDX (v4, v5 with a TD report body).
///
/// Layouts follow Intel's "SGX ECDSA Quote Library API" (v3) and the TDX DCAP quote format (v4/v5); offsets are
/// summarised in docs/attestation.md. Parsing is bounded by the quote's own length fields: bytes after the
/// signature data are counted in `trailingByteCount` and never covered by any signature.
public struct IntelQuote: Sendable, Hashable {
    /// The largest quote accepted (configfs-tsm caps outblobs at 32 KiB; real quotes are ~5 KiB).
    public static let maximumSize = 64 * 1024
    public static let headerSize = 48
    /// Intel's QE vendor id.
    public static let intelQEVendorID: [UInt8] = [0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07]

    /// The report the quote signs.
    public enum Body: Sendable, Hashable {
        case sgx(SGXReportBody)
        case td(TDReportBody)
    }

    public let version: UInt16
    /// 2 = ECDSA-256 with P-256 (the only type Intel's QE produces).
    public let attestationKeyType: UInt16
    /// 0 = SGX, 0x81 = TDX (v3 quotes are always SGX).
    public let teeType: UInt32
    /// v3 only (0 otherwise).
    public let qeSVN: UInt16
    /// v3 only (0 otherwise).
    public let pceSVN: UInt16
    public let qeVendorID: [UInt8]
    public let userData: [UInt8]
    public let body: Body
    /// Header and body: exactly the bytes the quote signature covers.
    public let signedBytes: [UInt8]
    /// ECDSA P-256 r‖s (big-endian) by the attestation key over `signedBytes`.
    public let quoteSignature: [UInt8]
    /// Raw P-256 point X‖Y.
    public let attestationKey: [UInt8]
    /// The Quoting Enclave's report; its REPORTDATA binds the attestation key.
    public let qeReport: SGXReportBody
    /// ECDSA P-256 r‖s by the PCK key over `qeReport.encoded`.
    public let qeReportSignature: [UInt8]
    public let qeAuthenticationData: [UInt8]
    /// The PEM PCK chain (certification data type 5), as carried (may end with NUL bytes).
    public let pckCertificateChainPEM: [UInt8]
    /// Bytes after the quote proper (padding some tools add); ignored and unsigned.
    public let trailingByteCount: Int

    public var isTDX: Bool { teeType == 0x81 }

    public init(bytes input: some Collection<UInt8>) throws(EvidenceParseError) {
        let bytes = Array(input)
        guard bytes.count <= Self.maximumSize else { throw .oversize(structure: "Intel quote", length: bytes.count, maximum: Self.maximumSize) }
        var r = ByteReader(bytes, context: "Intel quote")
        version = try r.u16("version")
        guard version == 3 || version == 4 || version == 5 else { throw .unsupportedVersion(structure: "Intel quote", version: UInt32(version)) }
        attestationKeyType = try r.u16("att_key_type")
        guard attestationKeyType == 2 else {
            throw .invalidField(structure: "Intel quote", field: "att_key_type", detail: "\(attestationKeyType) (only 2 = ECDSA-P256 is produced by Intel's QE)")
        }
        if version == 3 {
            try r.skip(4, "reserved")
            qeSVN = try r.u16("qe_svn")
            pceSVN = try r.u16("pce_svn")
            teeType = 0
        } else {
            teeType = try r.u32("tee_type")
            guard teeType == 0 || teeType == 0x81 else {
                throw .invalidField(structure: "Intel quote", field: "tee_type", detail: "0x\(String(teeType, radix: 16))")
            }
            try r.skip(4, "reserved")
            qeSVN = 0
            pceSVN = 0
        }
        qeVendorID = try r.read(16, "qe_vendor_id")
        userData = try r.read(20, "user_data")

        // Body: fixed by version and TEE type, or declared by a v5 body descriptor.
        let bodySize: Int
        var isTD = teeType == 0x81
        if version == 5 {
            let bodyType = try r.u16("body_type")
            let declared = Int(try r.u32("body_size"))
            switch bodyType {
            case 1: bodySize = SGXReportBody.size; isTD = false
            case 2: bodySize = TDReportBody.size10; isTD = true
            case 3: bodySize = TDReportBody.size15; isTD = true
            default: throw .invalidField(structure: "Intel quote", field: "body_type", detail: "\(bodyType)")
            }
            guard declared == bodySize else { throw .inconsistentLength(structure: "Intel quote", field: "body_size", declared: declared, expected: bodySize) }
            guard isTD == (teeType == 0x81) else {
                throw .invalidField(structure: "Intel quote", field: "body_type", detail: "\(bodyType) contradicts tee_type 0x\(String(teeType, radix: 16))")
            }
        } else {
            bodySize = isTD ? TDReportBody.size10 : SGXReportBody.size
        }
        let bodyBytes = try r.read(bodySize, "report body")
        body = isTD ? .td(try TDReportBody(bodyBytes)) : .sgx(try SGXReportBody(bodyBytes, context: "SGX report body"))
        signedBytes = Array(bytes[0..<r.offset])

        let signatureDataLength = Int(try r.u32("signature_data_len"))
        let signatureData = try r.read(signatureDataLength, "signature data")
        trailingByteCount = r.remaining

        var s = ByteReader(signatureData, context: "quote signature data")
        quoteSignature = try s.read(64, "quote signature")
        attestationKey = try s.read(64, "attestation key")
        // v3 carries the QE report directly; v4/v5 wrap it in certification data type 6.
        var qe: ByteReader
        if version == 3 {
            qe = s
        } else {
            let type = try s.u16("certification data type")
            guard type == 6 else { throw .invalidField(structure: "quote signature data", field: "certification data type", detail: "\(type), expected 6 (QE report certification data)") }
            let size = Int(try s.u32("certification data size"))
            qe = ByteReader(try s.read(size, "QE report certification data"), context: "QE report certification data")
            guard s.remaining == 0 else { throw .trailingBytes(structure: "quote signature data", count: s.remaining) }
        }
        qeReport = try SGXReportBody(try qe.read(SGXReportBody.size, "QE report"), context: "QE report")
        qeReportSignature = try qe.read(64, "QE report signature")
        let authSize = Int(try qe.u16("QE authentication data size"))
        qeAuthenticationData = try qe.read(authSize, "QE authentication data")
        let certType = try qe.u16("PCK certification data type")
        guard certType == 5 else { throw .invalidField(structure: "QE report certification data", field: "PCK certification data type", detail: "\(certType), expected 5 (PCK certificate chain)") }
        let certSize = Int(try qe.u32("PCK certification data size"))
        pckCertificateChainPEM = try qe.read(certSize, "PCK certificate chain")
        guard qe.remaining == 0 else { throw .trailingBytes(structure: version == 3 ? "quote signature data" : "QE report certification data", count: qe.remaining) }
    }

    /// The report data of the quoted enclave or TD (64 bytes).
    public var reportData: [UInt8] {
        switch body {
        case .sgx(let b): return b.reportData
        case .td(let b): return b.reportData
        }
    }
}
