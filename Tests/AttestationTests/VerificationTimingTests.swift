import Foundation
import TestSupport
import Testing

@testable import Attestation

/// Prints per-evidence verification time beside dcap-qvl's, measured in the same run, when
/// `DARKNODE_ATTESTATION_BENCH=1` (otherwise it does nothing). It asserts nothing about time: timings are reported,
/// never tested. The release-build figure comes from `swift run -c release bench attestation`; this variant exists
/// because it runs from the debug test binary (the Attestation target is compiled with -O even in debug).
@Suite struct VerificationTimingTests {
    @Test func printVerificationTimes() throws {
        guard ProcessInfo.processInfo.environment["DARKNODE_ATTESTATION_BENCH"] == "1" else { return }
        let iterations = Int(ProcessInfo.processInfo.environment["DARKNODE_ATTESTATION_BENCH_ITERATIONS"] ?? "") ?? 200
        let verifier = EvidenceVerifier()
        let sgx = try Samples.sgxQuote(), tdx = try Samples.tdxQuote(), snp = try Samples.snpReport(), nitro = try Samples.nitro()
        let sgxC = Collateral(intel: try Samples.sgxCollateral()), tdxC = Collateral(intel: try Samples.tdxCollateral())
        let snpC = Collateral(certificates: [try Samples.snpVCEK()])
        func median(_ body: () throws -> Void) rethrows -> Double {
            var samples: [Double] = []
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<iterations { try body() }
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
            }
            return samples.sorted()[2]
        }
        var peer: [String: Double] = [:]
        if PythonOracle.isAvailable {
            let cases: [[String: Any]] = [
                ["name": "sgx", "quote": TestData.url("attestation/intel-sgx/sgx_quote_v3.bin").path,
                 "collateral": TestData.url("attestation/intel-sgx/sgx_quote_v3_collateral.json").path, "now": Int(Samples.sgxTime.timeIntervalSince1970)],
                ["name": "tdx", "quote": TestData.url("attestation/intel-tdx/tdx_quote_v4.bin").path,
                 "collateral": TestData.url("attestation/intel-tdx/tdx_quote_v4_collateral.json").path, "now": Int(Samples.tdxTime.timeIntervalSince1970)],
            ]
            let out = try PythonOracle.run(script: "attestation_dcap_qvl.py", arguments: ["time", String(iterations)], input: JSONSerialization.data(withJSONObject: cases))
            peer = (try JSONSerialization.jsonObject(with: out) as? [String: Double]) ?? [:]
        }
        let ours = [
            ("SGX v3 quote + collateral", "sgx", try median { _ = try verifier.verify(sgx, collateral: sgxC, at: Samples.sgxTime) }),
            ("TDX v4 quote + collateral", "tdx", try median { _ = try verifier.verify(tdx, collateral: tdxC, at: Samples.tdxTime) }),
            ("SEV-SNP report + VCEK", "snp", try median { _ = try verifier.verify(snp, collateral: snpC, at: Samples.snpTime) }),
            ("Nitro document", "nitro", try median { _ = try verifier.verify(nitro, at: Samples.nitroTime) }),
        ]
        for (label, key, ns) in ours {
            var line = String(format: "attestation timing: %-28@ ours %8.3f ms", label as NSString, ns / 1e6)
            if let s = peer[key] { line += String(format: "   dcap-qvl %8.3f ms   ratio %.2f", s * 1e3, ns / (s * 1e9)) }
            print(line)
        }
    }
}
