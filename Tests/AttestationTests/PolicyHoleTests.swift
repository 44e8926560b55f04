import Foundation
import Secp256k1
import Testing
import TestSupport

@testable import Attestation

/// TCB status convergence per Intel's rules, and a binding requirement that fails closed (issue 17).
@Suite(.dedicatedThread) struct PolicyHoleTests {
    static let platformStatuses: [TCBStatus] = [
        .upToDate, .swHardeningNeeded, .configurationNeeded, .configurationAndSWHardeningNeeded, .outOfDate, .outOfDateConfigurationNeeded, .revoked,
    ]

    /// Intel QVL's convergence of the platform TCB level with the QE's (and the TDX module's) status, written out.
    static func intel(platform: TCBStatus, other: TCBStatus) -> TCBStatus {
        switch other {
        case .revoked: return .revoked
        case .outOfDate:
            switch platform {
            case .upToDate, .swHardeningNeeded: return .outOfDate
            case .configurationNeeded, .configurationAndSWHardeningNeeded: return .outOfDateConfigurationNeeded
            default: return platform
            }
        default: return platform
        }
    }

    @Test func tcbStatusesConvergeAsIntelSpecifies() {
        for platform in Self.platformStatuses {
            for other in [TCBStatus.upToDate, .outOfDate, .revoked] {
                #expect(platform.combined(with: other) == Self.intel(platform: platform, other: other), "\(platform) + \(other)")
                #expect(other.combined(with: platform) == Self.intel(platform: platform, other: other), "\(other) + \(platform) (symmetric)")
            }
        }
        #expect(TCBStatus.outOfDate.combined(with: .configurationNeeded) == .outOfDateConfigurationNeeded)
        #expect(TCBStatus.swHardeningNeeded.combined(with: .configurationNeeded) == .configurationAndSWHardeningNeeded)
        #expect(TCBStatus.notEvaluated.combined(with: .upToDate) == .notEvaluated)
    }

    /// End to end: the SGX sample's platform level is ConfigurationAndSWHardeningNeeded; with a QE identity that
    /// rates its QE OutOfDate (signed by the test TCB signer) the quote is OutOfDateConfigurationNeeded — below a
    /// floor of OutOfDate, which the old "worse of two" merge (giving OutOfDate) let through.
    @Test func outOfDateQEWithConfigurationNeededPlatformIsOutOfDateConfigurationNeeded() throws {
        let pki = try TestIntelPKI()
        let text = String(decoding: pki.realCollateral.qeIdentityJSON, as: UTF8.self)
        #expect(text.contains(#""tcbStatus":"UpToDate""#))
        let outOfDateQE = Array(text.replacingOccurrences(of: #""tcbStatus":"UpToDate""#, with: #""tcbStatus":"OutOfDate""#).utf8)
        let collateral = try pki.collateral(qeIdentityJSON: outOfDateQE)
        let verified = try pki.verifier.verify(pki.quote(), collateral: Collateral(intel: collateral), at: Samples.sgxTime)
        #expect(verified.tcb.qeStatus == .outOfDate)
        #expect(verified.tcb.status == .outOfDateConfigurationNeeded)
        let floor = AttestationPolicy(minimumTCB: .outOfDate, requireBinding: false)
        #expect(floor.evaluate(verified, at: Samples.sgxTime).reasons.first?.hasPrefix("TCBLevelPolicy: TCB status OutOfDateConfigurationNeeded") == true)
    }

    /// `requireBinding` (the default) with no binding given: rejected, not silently skipped.
    @Test func requireBindingFailsClosedWithoutABinding() throws {
        let sim = try SimulatedEvidence.sign(measurement: Array(repeating: 7, count: 32), reportData: Array(repeating: 9, count: 64),
                                             platformKey: PrivateKey(bytes: Array(repeating: 3, count: 32)))
        let verified = try EvidenceVerifier().verify(sim.encoded, at: Samples.sgxTime)
        let decision = AttestationPolicy(allowSimulation: true).evaluate(verified, at: Samples.sgxTime)
        #expect(decision.reasons == ["ReportDataBindingPolicy: no report-data binding was given to check the evidence against"])
        #expect(AttestationPolicy(allowSimulation: true, requireBinding: false).evaluate(verified, at: Samples.sgxTime) == .accepted)
        let binding = ReportDataBinding(identityKey: try PrivateKey(bytes: Array(repeating: 5, count: 32)).publicKey, nonce: [1])
        #expect(AttestationPolicy(allowSimulation: true).evaluate(verified, binding: binding, at: Samples.sgxTime).reasons.first?.hasPrefix("ReportDataBindingPolicy: report data") == true)
    }
}
