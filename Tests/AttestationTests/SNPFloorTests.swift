import Foundation
import Testing
import TestSupport

@testable import Attestation

/// SEV-SNP floor (issue 17): guest-policy bits, VMPL and per-component reported TCB checked by the default policy,
/// and MASK_CHIP_KEY read as what it is (the report is not signed by the chip key), not as "CHIP_ID masked".
@Suite(.dedicatedThread) struct SNPFloorTests {
    /// The real Milan sample, verified, with `change` applied to its measurements (policy, vmpl, reportedtcb). No
    /// real AMD CRL is in the test data, so it is marked as revocation-checked: these tests are about the floor (the
    /// CRL requirement is `AMDRevocationTests`').
    static func snp(_ change: (inout [String: [UInt8]]) -> Void = { _ in }) throws -> VerifiedEvidence {
        let v = try EvidenceVerifier().verify(Samples.snpReport(), collateral: Collateral(certificates: [Samples.snpVCEK()]), at: Samples.snpTime)
        var m = v.measurements
        change(&m)
        return VerifiedEvidence(platform: v.platform, measurements: m, reportData: v.reportData, tcb: v.tcb, isDebug: v.isDebug,
                                verifiedAt: v.verifiedAt, collateralChecked: v.collateralChecked, revocationChecked: true)
    }

    static func policyBytes(_ p: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: p >> (8 * $0)) } }

    @Test func theSampleIsAcceptedByTheDefaultPolicy() throws {
        let v = try Self.snp()
        #expect(v.measurements["policy"] == Self.policyBytes(0x30000) && v.measurements["vmpl"] == [0, 0, 0, 0])
        #expect(v.measurements["reportedtcb"] == Samples.hex("0300000000000873"))
        #expect(AttestationPolicy(requireBinding: false).evaluate(v, at: Samples.snpTime) == .accepted)
    }

    /// A guest whose policy lets a migration agent in (POLICY bit 18: the MA can export its memory) is refused.
    @Test func migrationAgentIsRefused() throws {
        let v = try Self.snp { $0["policy"] = Self.policyBytes(0x30000 | 1 << 18) }
        let reasons = AttestationPolicy(requireBinding: false).evaluate(v, at: Samples.snpTime).reasons
        #expect(reasons.count == 1 && reasons.first?.contains("MIGRATE_MA") == true, "\(reasons)")
    }

    /// A report requested from a less privileged VMPL (code beside or under the guest kernel) is refused by default.
    @Test func reportFromANonZeroVMPLIsRefusedByDefault() throws {
        let v = try Self.snp { $0["vmpl"] = [0, 0, 0, 2] }
        let reasons = AttestationPolicy(requireBinding: false).evaluate(v, at: Samples.snpTime).reasons
        #expect(reasons.count == 1 && reasons.first?.contains("VMPL 2") == true, "\(reasons)")
    }

    /// POLICY bit 17 is reserved and must be 1; a report saying otherwise is not what the firmware signs for a valid guest.
    @Test func reservedPolicyBitMustBeSet() throws {
        let v = try Self.snp { $0["policy"] = Self.policyBytes(0x10000) }
        #expect(!AttestationPolicy(requireBinding: false).evaluate(v, at: Samples.snpTime).isAccepted)
    }

    func verifyError(_ report: [UInt8]) throws -> AttestationError? {
        let vcek = try Samples.snpVCEK()
        do { _ = try EvidenceVerifier().verify(report, collateral: Collateral(certificates: [vcek]), at: Samples.snpTime); return nil } catch { return error }
    }

    /// Signer info bit 1 is MASK_CHIP_KEY: the firmware did not use the chip key (VCEK), so the report cannot be
    /// VCEK-signed. It was read as "CHIP_ID masked", which skipped the hwID check instead.
    @Test func maskChipKeyIsRefusedForWhatItIs() throws {
        var report = try Samples.snpReport()
        report[0x48] |= 0x02
        let error = try verifyError(report)
        guard case .endorsementKeyMismatch(let detail) = error, detail.contains("MASK_CHIP_KEY") else {
            Issue.record("expected a MASK_CHIP_KEY refusal, got \(String(describing: error))")
            return
        }
    }

    /// A zero CHIP_ID (the host's MASK_CHIP_ID setting) is not compared with the VCEK's hwID: only the signature
    /// decides (here it fails, as the sample was signed over its real CHIP_ID).
    @Test func zeroChipIDIsNotComparedWithTheHwID() throws {
        var report = try Samples.snpReport()
        report.replaceSubrange(0x1A0..<0x1E0, with: [UInt8](repeating: 0, count: 64))
        #expect(try verifyError(report) == .reportSignatureInvalid)
    }

    /// Per-component reported-TCB minimums (the sample: boot loader 3, TEE 0, SNP 8, microcode 115).
    @Test func reportedTCBFloorPerComponent() throws {
        let v = try Self.snp()
        let at = AttestationPolicy(requireBinding: false, snp: SNPPolicy(minimumReportedTCB: .init(bootloader: 3, tee: 0, snp: 8, microcode: 115)))
        #expect(at.evaluate(v, at: Samples.snpTime) == .accepted)
        let above = AttestationPolicy(requireBinding: false, snp: SNPPolicy(minimumReportedTCB: .init(bootloader: 4, tee: 1, snp: 9, microcode: 116)))
        let reasons = above.evaluate(v, at: Samples.snpTime).reasons
        #expect(reasons == ["SNPPolicy: reported boot loader SPL 3 is below the minimum 4; reported TEE SPL 0 is below the minimum 1; "
                            + "reported SNP SPL 8 is below the minimum 9; reported microcode SPL 115 is below the minimum 116"])
        // Through the policy document, with the other switches.
        let document = try PolicyDocument(json: Array(#"{"snp":{"minimumReportedTCB":{"bootloader":3,"tee":0,"snp":9,"microcode":100},"maximumVMPL":1,"allowSMT":false,"requireSingleSocket":true}}"#.utf8))
        let documented = document.policy.evaluate(try Self.snp { $0["vmpl"] = [0, 0, 0, 1] }, at: Samples.snpTime).reasons
        #expect(documented == ["SNPPolicy: guest policy allows SMT; guest policy does not require a single socket; reported SNP SPL 8 is below the minimum 9"])
        #expect(throws: PolicyDocumentError.self) { try PolicyDocument(json: Array(#"{"snp":{"maximumVMPL":4}}"#.utf8)) }
        #expect(throws: PolicyDocumentError.self) { try PolicyDocument(json: Array(#"{"snp":{"minimumReportedTCB":{"bootloader":1}}}"#.utf8)) }
        #expect(throws: PolicyDocumentError.self) { try PolicyDocument(json: Array(#"{"snp":{"allowMigrationAgents":true}}"#.utf8)) }
    }
}
