/// The TEE platforms whose evidence this module understands.
public enum AttestationPlatform: String, Sendable, Hashable, Codable, CaseIterable {
    case sgx
    case tdx
    case sevSNP = "sev-snp"
    case nitro
    /// The development stand-in: no hardware guarantee; accepted only by a policy that allows simulation.
    case simulated
}

/// Parsed, not yet verified, evidence of one platform.
public enum Evidence: Sendable, Hashable {
    case sgx(IntelQuote)
    case tdx(IntelQuote)
    case sevSNP(SNPReport)
    case nitro(NitroDocument)
    case simulated(SimulatedEvidence)

    /// Parses `bytes` as evidence of `platform`, or guesses the platform from the leading bytes when it is nil
    /// ("auto"). The guess only chooses a parser; verification decides authenticity.
    public static func parse(_ bytes: some Collection<UInt8>, platform: AttestationPlatform? = nil) throws(EvidenceParseError) -> Evidence {
        let b = Array(bytes)
        let chosen: AttestationPlatform
        if let platform { chosen = platform } else { chosen = try detectPlatform(b) }
        switch chosen {
        case .sgx:
            let quote = try IntelQuote(bytes: b)
            guard !quote.isTDX else { throw .invalidField(structure: "Intel quote", field: "tee_type", detail: "TDX quote where SGX was expected") }
            return .sgx(quote)
        case .tdx:
            let quote = try IntelQuote(bytes: b)
            guard quote.isTDX else { throw .invalidField(structure: "Intel quote", field: "tee_type", detail: "SGX quote where TDX was expected") }
            return .tdx(quote)
        case .sevSNP: return .sevSNP(try SNPReport(bytes: b))
        case .nitro: return .nitro(try NitroDocument(bytes: b))
        case .simulated:
            do { return .simulated(try SimulatedEvidence(bytes: b)) } catch { throw .simulated(error) }
        }
    }

    /// Guesses the platform from the format's fixed leading fields.
    public static func detectPlatform(_ b: [UInt8]) throws(EvidenceParseError) -> AttestationPlatform {
        if b.count >= 8, Array(b[0..<8]) == SimulatedEvidence.magic { return .simulated }
        if let first = b.first, first == 0x84 || first == 0xD2 { return .nitro }
        guard b.count >= 8 else { throw .unrecognisedFormat }
        let version = b.littleEndianValue(at: 0, width: 2)
        let upper = b.littleEndianValue(at: 2, width: 2)
        // Intel: u16 version 3-5, u16 attestation key type 2. SNP: u32 version 2-3 (upper half zero).
        if (3...5).contains(version), upper == 2 {
            if version == 3 { return .sgx }
            return b.littleEndianValue(at: 4, width: 4) == 0x81 ? .tdx : .sgx
        }
        if (version == 2 || version == 3), upper == 0, b.count >= SNPReport.size { return .sevSNP }
        throw .unrecognisedFormat
    }

    public var platform: AttestationPlatform {
        switch self {
        case .sgx: return .sgx
        case .tdx: return .tdx
        case .sevSNP: return .sevSNP
        case .nitro: return .nitro
        case .simulated: return .simulated
        }
    }

    /// The bytes the attested code chose to bind (64 bytes; Nitro's `user_data`, empty when absent).
    public var reportData: [UInt8] {
        switch self {
        case .sgx(let q), .tdx(let q): return q.reportData
        case .sevSNP(let r): return r.reportData
        case .nitro(let d): return d.userData ?? []
        case .simulated(let s): return s.reportData
        }
    }
}
