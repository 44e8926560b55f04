import Foundation
import Testing
import TestSupport

/// `darknode attest verify --amd-crl` (issue 17): the CRL reaches the verifier, a policy requires it by default for
/// SEV-SNP, and CRL bytes that do not parse are a typed rejection. The real Milan sample's ARK has no CRL in the test
/// data, so the synthetic test PKI's CRL (another issuer) is skipped and revocation counts as not checked.
@Suite("darknode attest verify with AMD CRLs (subprocess)", .dedicatedThreadForBlockingWaits)
struct AMDCRLCLITests {
    static func verify(_ work: AttestCLITests.Workspace, crl: [UInt8], policy: String) throws -> (status: Int32, json: [String: Any]) {
        try Data(try TestData.bytes("attestation/amd-sev-snp/milan_vcek_report_v2.bin")).write(to: URL(fileURLWithPath: work.file("report.bin")))
        try Data(try TestData.bytes("attestation/amd-sev-snp/milan_vcek_report_v2.vcek.der")).write(to: URL(fileURLWithPath: work.file("vcek.der")))
        try Data(crl).write(to: URL(fileURLWithPath: work.file("milan.crl")))
        try Data(policy.utf8).write(to: URL(fileURLWithPath: work.file("policy.json")))
        let result = try AttestCLITests.run(AttestCLITests.darknode, [
            "attest", "verify", work.file("report.bin"), "--platform", "sev-snp", "--cert-chain", work.file("vcek.der"),
            "--amd-crl", work.file("milan.crl"), "--policy", work.file("policy.json"), "--at", "2024-06-01T00:00:00Z",
        ])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(result.standardError)")
        return (result.status, json)
    }

    @Test func crlFlagReachesTheVerifierAndThePolicy() throws {
        let work = try AttestCLITests.Workspace()
        let otherIssuer = try TestData.bytes("attestation/amd-sev-snp/test-pki/crl.der")
        let required = try Self.verify(work, crl: otherIssuer, policy: "{}")
        #expect(required.status == 1 && required.json["revocationChecked"] as? Bool == false)
        #expect(required.json["reasons"] as? [String] == ["SNPPolicy: no AMD CRL for the report's ARK was checked (none in the collateral)"])
        let optional = try Self.verify(work, crl: otherIssuer, policy: #"{"snp": {"requireCRL": false}}"#)
        #expect(optional.status == 0 && optional.json["verdict"] as? String == "accepted", "\(optional.json)")

        let garbage = try Self.verify(work, crl: Array("not a CRL".utf8), policy: #"{"snp": {"requireCRL": false}}"#)
        #expect(garbage.status == 1)
        let reasons = garbage.json["reasons"] as? [String] ?? []
        #expect(reasons.first?.hasPrefix("EvidenceVerifier: CRL AMD CRL 0 invalid") == true, "\(reasons)")
    }
}
