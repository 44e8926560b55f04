/// The SEV-SNP floor (issue 17): what an SNP report must say beyond being authentic. AMD publishes no TCB status
/// list, so the operator sets per-component minimums of REPORTED_TCB; the guest policy must not admit a migration
/// agent (POLICY bit 18, MIGRATE_MA: it can export the guest's memory), must have the reserved bit 17 set, and may
/// be required to forbid SMT or to run on a single socket; the report must come from a VMPL no higher (less
/// privileged) than allowed — by default 0, the guest kernel itself. Debug (bit 19) is `DebugForbiddenPolicy`'s.
/// By default AMD's CRL for the report's ARK must have been checked (`requireCRL`): without it a revoked ASK or VCEK
/// would pass unnoticed, which a custody node must not allow silently (as Intel collateral is required by default);
/// an operator who cannot mirror the KDS CRL has to say so with `requireCRL: false`. Other platforms pass.
public struct SNPPolicy: AttestationCheck {
    /// Minimum security patch levels of REPORTED_TCB's components (Milan/Genoa layout).
    public struct TCBFloor: Sendable, Hashable {
        public var bootloader: UInt8
        public var tee: UInt8
        public var snp: UInt8
        public var microcode: UInt8
        public init(bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8) {
            self.bootloader = bootloader
            self.tee = tee
            self.snp = snp
            self.microcode = microcode
        }
    }

    public let name = "SNPPolicy"
    public var minimumReportedTCB: TCBFloor?
    public var maximumVMPL: UInt32
    public var allowMigrationAgent: Bool
    public var allowSMT: Bool
    public var requireSingleSocket: Bool
    /// Refuse a report whose ARK's CRL was not checked (none in the collateral for its product line).
    public var requireCRL: Bool

    public init(minimumReportedTCB: TCBFloor? = nil, maximumVMPL: UInt32 = 0, allowMigrationAgent: Bool = false, allowSMT: Bool = true,
                requireSingleSocket: Bool = false, requireCRL: Bool = true) {
        self.minimumReportedTCB = minimumReportedTCB
        self.maximumVMPL = maximumVMPL
        self.allowMigrationAgent = allowMigrationAgent
        self.allowSMT = allowSMT
        self.requireSingleSocket = requireSingleSocket
        self.requireCRL = requireCRL
    }

    static func integer(_ bytes: [UInt8]?) -> UInt64? {
        guard let bytes, !bytes.isEmpty, bytes.count <= 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult {
        guard verified.platform == .sevSNP else { return .passes }
        guard let policy = Self.integer(verified.measurements["policy"]), let vmpl = Self.integer(verified.measurements["vmpl"]),
              let tcb = verified.measurements["reportedtcb"], tcb.count == 8
        else { return .fails("the evidence lacks policy, vmpl or reportedtcb") }
        var problems: [String] = []
        if policy & (1 << 17) == 0 { problems.append("guest policy bit 17 (reserved, must be 1) is 0") }
        if !allowMigrationAgent, policy & (1 << 18) != 0 { problems.append("guest policy allows a migration agent (MIGRATE_MA)") }
        if !allowSMT, policy & (1 << 16) != 0 { problems.append("guest policy allows SMT") }
        if requireSingleSocket, policy & (1 << 20) == 0 { problems.append("guest policy does not require a single socket") }
        if requireCRL, !verified.revocationChecked { problems.append("no AMD CRL for the report's ARK was checked (none in the collateral)") }
        if vmpl > UInt64(maximumVMPL) { problems.append("report from VMPL \(vmpl), above the maximum \(maximumVMPL)") }
        if let floor = minimumReportedTCB {
            for (label, value, minimum) in [("boot loader", tcb[0], floor.bootloader), ("TEE", tcb[1], floor.tee),
                                            ("SNP", tcb[6], floor.snp), ("microcode", tcb[7], floor.microcode)] where value < minimum {
                problems.append("reported \(label) SPL \(value) is below the minimum \(minimum)")
            }
        }
        return problems.isEmpty ? .passes : .fails(problems.joined(separator: "; "))
    }
}
