import Foundation
import Secp256k1
import Testing
import TestSupport

@testable import Attestation

/// Every stored sample verifies at its SOURCES.md time, with the expected TCB result.
@Suite(.dedicatedThread) struct VerificationSampleTests {
    let verifier = EvidenceVerifier()

    @Test func sgxQuoteWithCollateral() throws {
        let v = try verifier.verify(Samples.sgxQuote(), collateral: Collateral(intel: Samples.sgxCollateral()), at: Samples.sgxTime)
        #expect(v.platform == .sgx && !v.isDebug && v.collateralChecked)
        #expect(v.tcb.status == .configurationAndSWHardeningNeeded)
        #expect(v.tcb.qeStatus == .upToDate)
        #expect(Set(v.tcb.advisoryIDs) == ["INTEL-SA-00289", "INTEL-SA-00615"])
        #expect(v.tcb.tcbDate == Samples.time("2024-03-13T00:00:00Z"))
        #expect(v.measurements["mrenclave"]?.hexString == "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb")
        #expect(v.measurements["mrsigner"]?.hexString == "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6")
        #expect(v.reportData.prefix(13) == ArraySlice("Hello, world!".utf8))
    }

    @Test func sgxDebugQuoteIsAuthenticButDebug() throws {
        let v = try verifier.verify(Samples.sgxDebugQuote(), at: Samples.sgxTime)
        #expect(v.platform == .sgx && v.isDebug && !v.collateralChecked && v.tcb.status == .notEvaluated)
        let decision = AttestationPolicy(requireIntelCollateral: false, requireBinding: false).evaluate(v, at: Samples.sgxTime)
        #expect(decision.reasons.count == 1)
        #expect(decision.reasons.first?.hasPrefix("DebugForbiddenPolicy:") == true)
    }

    @Test func tdxQuoteWithCollateral() throws {
        let v = try verifier.verify(Samples.tdxQuote(), collateral: Collateral(intel: Samples.tdxCollateral()), at: Samples.tdxTime)
        #expect(v.platform == .tdx && !v.isDebug)
        #expect(v.tcb.status == .upToDate && v.tcb.qeStatus == .upToDate)
        #expect(v.tcb.tcbDate == Samples.time("2024-03-13T00:00:00Z"))
        #expect(v.measurements["mrtd"]?.hexString == "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7")
    }

    @Test func snpReportWithVCEK() throws {
        let v = try verifier.verify(Samples.snpReport(), collateral: Collateral(certificates: [Samples.snpVCEK()]), at: Samples.snpTime)
        #expect(v.platform == .sevSNP && !v.isDebug)
        #expect(v.measurements["measurement"]?.hexString == "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f")
        #expect(v.measurements["policy"]?.hexString == "0000000000030000")
        #expect(v.measurements["vmpl"]?.hexString == "00000000")
        #expect(AttestationPolicy.authenticity.evaluate(v, at: Samples.snpTime) == .accepted)
    }

    @Test func snpDebugReportIsAuthenticButDebug() throws {
        let v = try verifier.verify(Samples.snpDebugReport(), collateral: Collateral(certificates: [Samples.snpDebugVCEK()]), at: Samples.snpTime)
        #expect(v.isDebug)
        let decision = AttestationPolicy.authenticity.evaluate(v, at: Samples.snpTime)
        #expect(decision.reasons == ["DebugForbiddenPolicy: SEV-SNP guest policy allows debugging (POLICY bit 19)"])
    }

    @Test func nitroDocument() throws {
        let v = try verifier.verify(Samples.nitro(), at: Samples.nitroTime)
        #expect(v.platform == .nitro && !v.isDebug)
        #expect(v.producedAt == Date(timeIntervalSince1970: 1_725_719_859.545))
        #expect(v.measurements["pcr0"]?.hexString == "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a")
        #expect(AttestationPolicy.authenticity.evaluate(v, at: Samples.nitroTime) == .accepted)
    }

    @Test func nitroDebugDocument() throws {
        let v = try verifier.verify(Samples.nitro("nitro_attestation_debug.b64"), at: Samples.nitroDebugTime)
        #expect(v.isDebug)
        #expect(AttestationPolicy.authenticity.evaluate(v, at: Samples.nitroDebugTime).reasons.first?.hasPrefix("DebugForbiddenPolicy") == true)
    }

    @Test func simulatedEvidenceNeedsOptIn() throws {
        let key = try PrivateKey(bytes: Array(repeating: 3, count: 32))
        let sim = try SimulatedEvidence.sign(measurement: Array(repeating: 7, count: 32), reportData: Array(repeating: 9, count: 64), platformKey: key)
        let v = try verifier.verify(sim.encoded, at: Samples.sgxTime)
        #expect(v.platform == .simulated && v.measurements["measurement"] == Array(repeating: 7, count: 32))
        #expect(AttestationPolicy.authenticity.evaluate(v, at: Samples.sgxTime).reasons.first?.hasPrefix("SimulationPolicy:") == true)
        #expect(AttestationPolicy(allowSimulation: true, requireBinding: false).evaluate(v, at: Samples.sgxTime) == .accepted)
        var tampered = sim.encoded
        tampered[20] ^= 1
        #expect(throws: AttestationError.simulatedSignatureInvalid) { try verifier.verify(tampered, at: Samples.sgxTime) }
    }
}
