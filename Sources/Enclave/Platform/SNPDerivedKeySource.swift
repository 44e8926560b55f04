import Crypto

#if canImport(Glibc)
    import Glibc
#endif

/// Sends one SNP guest request to the AMD secure processor. `LinuxSNPGuestDevice` uses `/dev/sev-guest`; tests
/// substitute a fake that checks the request bytes.
public protocol SNPGuestDevice: Sendable {
    /// Sends a 32-byte `snp_derived_key_req` and returns the 64-byte response (`MSG_KEY_RSP`).
    func derivedKey(request: [UInt8]) throws(EnclaveError) -> [UInt8]
}

/// The Linux `sev-guest` driver: `ioctl(SNP_GET_DERIVED_KEY)` (Documentation/virt/coco/sev-guest.rst).
public struct LinuxSNPGuestDevice: SNPGuestDevice {
    /// `_IOWR('S', 0x1, struct snp_guest_request_ioctl)`, the struct being 32 bytes.
    static let getDerivedKey: UInt = 0xC020_5301
    public let path: String

    public init(path: String = "/dev/sev-guest") {
        self.path = path
    }

    public func derivedKey(request: [UInt8]) throws(EnclaveError) -> [UInt8] {
        precondition(request.count == SNPDerivedKeySource.requestLength)
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw .fileUnreadable(path: path, reason: PlatformFiles.errnoDescription()) }
        defer { close(descriptor) }
        var requestBuffer = request
        var response = [UInt8](repeating: 0, count: SNPDerivedKeySource.responseLength)
        // struct snp_guest_request_ioctl { u8 msg_version; u64 req_data; u64 resp_data; u64 exitinfo2; }
        var ioctlBuffer = [UInt8](repeating: 0, count: 32)
        let result = requestBuffer.withUnsafeMutableBytes { requestBytes in
            response.withUnsafeMutableBytes { responseBytes in
                ioctlBuffer[0] = 1
                SNPDerivedKeySource.storeUInt64LE(UInt64(UInt(bitPattern: requestBytes.baseAddress)), into: &ioctlBuffer, at: 8)
                SNPDerivedKeySource.storeUInt64LE(UInt64(UInt(bitPattern: responseBytes.baseAddress)), into: &ioctlBuffer, at: 16)
                return ioctlBuffer.withUnsafeMutableBytes { ioctl(descriptor, LinuxSNPGuestDevice.getDerivedKey, $0.baseAddress!) }
            }
        }
        guard result == 0 else {
            let firmwareError = ioctlBuffer[24..<32].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            throw .sealingKeyUnavailable(
                reason: "SNP_GET_DERIVED_KEY failed: \(PlatformFiles.errnoDescription()), exitinfo2 0x\(String(firmwareError, radix: 16))")
        }
        return response
    }
}

/// SEV-SNP's own key derivation (SNP ABI `MSG_KEY_REQ`): the secure processor derives a key from the chip-unique
/// VCEK root and the guest fields we select, so only a guest with those fields on this chip gets the same key.
///
/// - `.measurement`: guest policy + MEASUREMENT (the launch digest of this exact image).
/// - `.signer`: guest policy + IMAGE_ID + FAMILY_ID, which come from the ID block signed by the release signer's
///   ID key at launch, so every release with the same IDs shares the key.
///
/// The 32-byte derived key is stretched with HKDF-SHA256 and a domain string before use. It cannot be
/// exercised without SNP hardware here: tests check the request layout against a fake device.
public struct SNPDerivedKeySource: SealingKeySource {
    static let requestLength = 32
    static let responseLength = 64
    static let salt: [UInt8] = Array("darknode/snp-sealing/v1".utf8)

    /// `guest_field_select` bits (SNP ABI, MSG_KEY_REQ).
    public enum GuestField: UInt64, Sendable {
        case policy = 0x01, imageID = 0x02, familyID = 0x04, measurement = 0x08, guestSVN = 0x10, tcbVersion = 0x20
    }

    public let device: any SNPGuestDevice
    /// The VMPL mixed into the key; must be at least the guest's own VMPL (0 without an SVSM).
    public let vmpl: UInt32

    public init(device: any SNPGuestDevice = LinuxSNPGuestDevice(), vmpl: UInt32 = 0) {
        self.device = device
        self.vmpl = vmpl
    }

    static func fieldSelect(for policy: SealingPolicy) -> UInt64 {
        switch policy {
        case .measurement: GuestField.policy.rawValue | GuestField.measurement.rawValue
        case .signer: GuestField.policy.rawValue | GuestField.imageID.rawValue | GuestField.familyID.rawValue
        }
    }

    /// `struct snp_derived_key_req { u32 root_key_select (0 = VCEK); u32 rsvd; u64 guest_field_select; u32 vmpl;
    /// u32 guest_svn; u64 tcb_version; }`, little-endian.
    static func request(policy: SealingPolicy, vmpl: UInt32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: requestLength)
        storeUInt64LE(fieldSelect(for: policy), into: &bytes, at: 8)
        storeUInt64LE(UInt64(vmpl), into: &bytes, at: 16)  // vmpl (u32) then guest_svn (u32) = 0
        return bytes
    }

    public func sealingKey(policy: SealingPolicy, kind: EnclavePlatformKind, measurement: [UInt8]) throws(EnclaveError)
        -> SymmetricKey
    {
        guard kind == .sevSNP else {
            throw .sealingKeyUnavailable(reason: "\(kind.rawValue) has no hardware sealing key: configure provisioned-sealing-key")
        }
        let response = try device.derivedKey(request: SNPDerivedKeySource.request(policy: policy, vmpl: vmpl))
        guard response.count == SNPDerivedKeySource.responseLength else {
            throw .sealingKeyUnavailable(reason: "MSG_KEY_RSP is \(response.count) bytes")
        }
        let status = response[0..<4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard status == 0 else { throw .sealingKeyUnavailable(reason: "MSG_KEY_RSP status \(status)") }
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: response[32..<64]), salt: SNPDerivedKeySource.salt,
            info: Array("darknode/sealing/\(policy.rawValue)".utf8), outputByteCount: 32)
    }

    static func storeUInt64LE(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }
}
