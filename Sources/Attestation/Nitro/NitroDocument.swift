/// An AWS Nitro Enclaves attestation document: a COSE_Sign1 (RFC 9052) structure, tagged (18) or untagged,
/// whose payload is a CBOR map (aws-nitro-enclaves-nsm-api "attestation document" specification).
public struct NitroDocument: Sendable, Hashable {
    /// Real documents are ~5-8 KiB (with 3 optional fields of at most 1 KiB each).
    public static let maximumSize = 32 * 1024

    /// The protected header bytes (`a1 01 38 22` = {alg: ES384}).
    public let protectedHeader: [UInt8]
    public let payload: [UInt8]
    /// ECDSA P-384 r‖s (96 bytes, big-endian).
    public let signature: [UInt8]

    public let moduleID: String
    public let digest: String
    /// Milliseconds since the Unix epoch.
    public let timestamp: UInt64
    /// PCR index → value (48 bytes for SHA384).
    public let pcrs: [Int: [UInt8]]
    /// The signing (leaf) certificate, DER.
    public let certificate: [UInt8]
    /// CA certificates, root first: [ROOT, INTERM_1, ..., INTERM_N].
    public let caBundle: [[UInt8]]
    public let publicKey: [UInt8]?
    public let userData: [UInt8]?
    public let nonce: [UInt8]?

    /// Debug-mode enclaves report PCR0, PCR1 and PCR2 as all zeros.
    public var isDebug: Bool {
        (0...2).allSatisfy { pcrs[$0]?.isAllZero ?? true }
    }

    /// The COSE Sig_structure the signature covers: ["Signature1", protected, h'', payload].
    public var signedBytes: [UInt8] {
        [0x84, 0x6A] + Array("Signature1".utf8) + CBOREncoder.bytes(protectedHeader) + [0x40] + CBOREncoder.bytes(payload)
    }

    public init(bytes input: some Collection<UInt8>) throws(EvidenceParseError) {
        let bytes = Array(input)
        let name = "nitro document"
        guard bytes.count <= Self.maximumSize else { throw .oversize(structure: name, length: bytes.count, maximum: Self.maximumSize) }
        var outer = try CBORValue.decode(bytes)
        if case .tagged(18, let inner) = outer { outer = inner }
        guard case .array(let parts) = outer, parts.count == 4 else {
            throw .invalidField(structure: name, field: "COSE_Sign1", detail: "expected an array of 4 items")
        }
        guard case .bytes(let protected) = parts[0] else { throw .invalidField(structure: name, field: "protected", detail: "not a byte string") }
        guard case .map = parts[1] else { throw .invalidField(structure: name, field: "unprotected", detail: "not a map") }
        guard case .bytes(let payload) = parts[2] else { throw .invalidField(structure: name, field: "payload", detail: "not a byte string") }
        guard case .bytes(let signature) = parts[3] else { throw .invalidField(structure: name, field: "signature", detail: "not a byte string") }
        let header = try CBORValue.decode(protected)
        guard case .map(let headerEntries) = header, headerEntries.count == 1, headerEntries[0].0 == .unsigned(1), headerEntries[0].1 == .negative(34) else {
            throw .invalidField(structure: name, field: "protected header", detail: "expected {1: -35} (ES384)")
        }
        guard signature.count == 96 else { throw .inconsistentLength(structure: name, field: "signature", declared: signature.count, expected: 96) }
        protectedHeader = protected
        self.payload = payload
        self.signature = signature

        let map = try CBORValue.decode(payload)
        guard case .map = map else { throw .invalidField(structure: name, field: "payload", detail: "not a map") }
        guard case .text(let moduleID)? = map["module_id"], !moduleID.isEmpty else { throw .invalidField(structure: name, field: "module_id", detail: "missing or empty") }
        guard case .text(let digest)? = map["digest"], digest == "SHA384" else { throw .invalidField(structure: name, field: "digest", detail: "expected SHA384") }
        guard case .unsigned(let timestamp)? = map["timestamp"], timestamp > 0 else { throw .invalidField(structure: name, field: "timestamp", detail: "missing") }
        guard case .map(let pcrEntries)? = map["pcrs"], (1...32).contains(pcrEntries.count) else { throw .invalidField(structure: name, field: "pcrs", detail: "expected 1-32 entries") }
        var pcrs: [Int: [UInt8]] = [:]
        for (key, value) in pcrEntries {
            guard case .unsigned(let index) = key, index < 32, case .bytes(let pcr) = value, [32, 48, 64].contains(pcr.count), pcrs[Int(index)] == nil else {
                throw .invalidField(structure: name, field: "pcrs", detail: "entry is not a unique index 0-31 with a 32/48/64-byte value")
            }
            pcrs[Int(index)] = pcr
        }
        guard case .bytes(let certificate)? = map["certificate"], !certificate.isEmpty else { throw .invalidField(structure: name, field: "certificate", detail: "missing") }
        guard case .array(let bundle)? = map["cabundle"], !bundle.isEmpty else { throw .invalidField(structure: name, field: "cabundle", detail: "missing or empty") }
        var caBundle: [[UInt8]] = []
        for item in bundle {
            guard case .bytes(let der) = item, !der.isEmpty else { throw .invalidField(structure: name, field: "cabundle", detail: "entry is not a byte string") }
            caBundle.append(der)
        }
        func optionalBytes(_ key: String, limit: Int) throws(EvidenceParseError) -> [UInt8]? {
            switch map[key] {
            case nil, .null?: return nil
            case .bytes(let b)? where b.count <= limit: return b
            default: throw .invalidField(structure: name, field: key, detail: "not a byte string of at most \(limit) bytes")
            }
        }
        self.moduleID = moduleID
        self.digest = digest
        self.timestamp = timestamp
        self.pcrs = pcrs
        self.certificate = certificate
        self.caBundle = caBundle
        publicKey = try optionalBytes("public_key", limit: 1024)
        userData = try optionalBytes("user_data", limit: 1024)
        nonce = try optionalBytes("nonce", limit: 1024)
    }
}
