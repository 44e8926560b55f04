import Attestation
import Foundation
import Network
import Testing
import TestSupport

/// The collateral directory reads AMD KDS CRLs from `amd/*.crl` (issue 17): a revoked VCEK is refused through it,
/// and a file that is not a CRL stops the load. Uses the synthetic test PKI (Tests/Fixtures SOURCES.md).
@Suite(.dedicatedThread) struct CollateralDirectoryCRLTests {
    let root = NSTemporaryDirectory() + "darknode-crl-\(UUID().uuidString)"

    static func pki(_ name: String) throws -> [UInt8] { try TestData.bytes("attestation/amd-sev-snp/test-pki/" + name) }

    func directory(crl: [UInt8]) throws -> String {
        try FileManager.default.createDirectory(atPath: root + "/amd", withIntermediateDirectories: true)
        try Data(try Self.pki("vcek.der")).write(to: URL(fileURLWithPath: root + "/amd/vcek.der"))
        try Data(crl).write(to: URL(fileURLWithPath: root + "/amd/milan.crl"))
        return root
    }

    @Test func revokedVCEKIsRefusedThroughTheDirectory() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let production = TrustAnchors.production
        let anchors = TrustAnchors(intelRootCA: production.intelRootCA, amdCertificates: [try Self.pki("ark.der"), try Self.pki("ask.der")],
                                   nitroRoot: production.nitroRoot)
        let time = try #require(ISO8601DateFormatter().date(from: "2026-01-15T00:00:00Z"))
        let evidence = try Evidence.parse(try Self.pki("report.bin"), platform: .sevSNP)
        let verifier = EvidenceVerifier(trustAnchors: anchors)

        let revoking = try CollateralDirectory.load(try directory(crl: try Self.pki("crl_revokes_vcek.der")), trustAnchors: anchors)
        let refused = Result { () throws(AttestationError) in try verifier.verify(evidence, collateral: try revoking.collateral(for: evidence, at: time), at: time) }
        guard case .failure(.certificateRevoked(subject: "SEV-VCEK", _)) = refused else {
            Issue.record("expected the revoked VCEK to be refused, got \(refused)")
            return
        }
        let clean = try CollateralDirectory.load(try directory(crl: try Self.pki("crl.der")), trustAnchors: anchors)
        #expect(try verifier.verify(evidence, collateral: try clean.collateral(for: evidence, at: time), at: time).revocationChecked)

        #expect(throws: CollateralDirectory.Failure.self) {
            try CollateralDirectory.load(try directory(crl: Array("not a CRL".utf8)), trustAnchors: anchors)
        }
    }
}
