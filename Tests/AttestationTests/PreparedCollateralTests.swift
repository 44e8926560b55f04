import Foundation
import Testing
import TestSupport

@testable import Attestation

/// Intel collateral verified once and reused (issue 17): the same verdict as verifying it with every quote, within
/// its window only, and only for the root it was verified against.
@Suite(.dedicatedThread) struct PreparedCollateralTests {
    @Test func preparedCollateralGivesTheSameResultAsRawCollateral() throws {
        let verifier = EvidenceVerifier()
        for (quote, collateral, time) in [(try Samples.sgxQuote(), try Samples.sgxCollateral(), Samples.sgxTime),
                                          (try Samples.tdxQuote(), try Samples.tdxCollateral(), Samples.tdxTime)] {
            let raw = try verifier.verify(quote, collateral: Collateral(intel: collateral), at: time)
            let prepared = try PreparedIntelCollateral(collateral, at: time)
            let reused = try verifier.verify(quote, collateral: Collateral(preparedIntel: prepared), at: time)
            #expect(reused == raw)
            #expect(reused.collateralChecked && reused.tcb.status != .notEvaluated)
        }
    }

    @Test func preparedCollateralHoldsOnlyInsideItsWindow() throws {
        let collateral = try Samples.sgxCollateral()
        let prepared = try PreparedIntelCollateral(collateral, at: Samples.sgxTime)
        // The QE identity's nextUpdate (2025-07-19T10:01:18Z) is the earliest end (the PCK CRL's is 10:23:18Z);
        // TCB info and QE identity were issued on 2025-06-19.
        #expect(prepared.validUntil == Samples.time("2025-07-19T10:01:18Z"))
        #expect(prepared.validFrom <= Samples.sgxTime && prepared.validFrom >= Samples.time("2025-06-19T00:00:00Z"))
        let quote = try Samples.sgxQuote()
        let verifier = EvidenceVerifier()
        _ = try verifier.verify(quote, collateral: Collateral(preparedIntel: prepared), at: prepared.validUntil)
        for time in [prepared.validUntil.addingTimeInterval(1), prepared.validFrom.addingTimeInterval(-1)] {
            #expect(throws: AttestationError.collateralExpired(which: "Intel collateral", issueDate: prepared.validFrom, nextUpdate: prepared.validUntil, time: time)) {
                try verifier.verify(quote, collateral: Collateral(preparedIntel: prepared), at: time)
            }
        }
        // Preparing outside the window fails as verifying raw collateral there does.
        #expect(throws: AttestationError.self) { try PreparedIntelCollateral(collateral, at: Samples.time("2025-08-01T00:00:00Z")) }
    }

    /// Collateral prepared under another root (the test PKI) is not used by a verifier pinning Intel's.
    @Test func preparedCollateralIsBoundToItsRoot() throws {
        let pki = try TestIntelPKI()
        let prepared = try PreparedIntelCollateral(pki.collateral(), trustAnchors: pki.anchors, at: Samples.sgxTime)
        _ = try pki.verifier.verify(pki.quote(), collateral: Collateral(preparedIntel: prepared), at: Samples.sgxTime)
        let quote = try Samples.sgxQuote()
        #expect(throws: AttestationError.untrustedRoot(chain: "Intel collateral")) {
            try EvidenceVerifier().verify(quote, collateral: Collateral(preparedIntel: prepared), at: Samples.sgxTime)
        }
    }
}
