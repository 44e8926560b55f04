import Foundation
import TestSupport
import Testing

@testable import Attestation

/// Cross-check against Phala's dcap-qvl (Rust, PyPI bindings `dcap-qvl`): on every Intel sample, and on
/// variants that must fail, both give the same verdict, and the same TCB status and advisories when accepted.
@Suite(.dedicatedThread) struct DcapQvlCrossCheckTests {
    struct Case {
        let name: String
        let quote: [UInt8]
        let collateralPath: String
        let time: Date
    }

    @Test func sameVerdictAndTCBStatusAsDcapQvl() throws {
        guard PythonOracle.isAvailable else {
            if PythonOracle.isRequired { Issue.record("\(PythonOracle.missingMessage)") }
            return
        }
        let sgxCollateral = try TestData.path("attestation/intel-sgx/sgx_quote_v3_collateral.json")
        let tdxCollateral = try TestData.path("attestation/intel-tdx/tdx_quote_v4_collateral.json")
        var tamperedSGX = try Samples.sgxQuote()
        tamperedSGX[200] ^= 0x10
        var tamperedTDX = try Samples.tdxQuote()
        tamperedTDX[300] ^= 0x01
        let cases = [
            Case(name: "sgx_quote_v3", quote: try Samples.sgxQuote(), collateralPath: sgxCollateral, time: Samples.sgxTime),
            Case(name: "tdx_quote_v4", quote: try Samples.tdxQuote(), collateralPath: tdxCollateral, time: Samples.tdxTime),
            Case(name: "sgx_quote_v3_debug_enclave (other platform's collateral)", quote: try Samples.sgxDebugQuote(), collateralPath: sgxCollateral, time: Samples.sgxTime),
            Case(name: "sgx_quote_v3 after nextUpdate", quote: try Samples.sgxQuote(), collateralPath: sgxCollateral, time: Samples.time("2025-08-01T00:00:00Z")),
            Case(name: "tdx_quote_v4 before issueDate", quote: try Samples.tdxQuote(), collateralPath: tdxCollateral, time: Samples.time("2025-06-01T00:00:00Z")),
            Case(name: "sgx_quote_v3 body bit flip", quote: tamperedSGX, collateralPath: sgxCollateral, time: Samples.sgxTime),
            Case(name: "tdx_quote_v4 body bit flip", quote: tamperedTDX, collateralPath: tdxCollateral, time: Samples.tdxTime),
            Case(name: "tdx_quote_v4 with SGX collateral", quote: try Samples.tdxQuote(), collateralPath: sgxCollateral, time: Samples.tdxTime),
        ]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dcap-qvl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var input: [[String: Any]] = []
        for (i, c) in cases.enumerated() {
            let path = dir.appendingPathComponent("quote\(i).bin")
            try Data(c.quote).write(to: path)
            input.append(["name": c.name, "quote": path.path, "collateral": c.collateralPath, "now": Int(c.time.timeIntervalSince1970)])
        }
        let output = try PythonOracle.run(script: "attestation_dcap_qvl.py", input: JSONSerialization.data(withJSONObject: input))
        let theirs = try #require(try JSONSerialization.jsonObject(with: output) as? [[String: Any]])
        #expect(theirs.count == cases.count)
        for (c, their) in zip(cases, theirs) {
            let collateral = Collateral(intel: try IntelCollateral(json: Array(try Data(contentsOf: URL(fileURLWithPath: c.collateralPath)))))
            var ourVerdict = "rejected", ourStatus: String? = nil, ourAdvisories: [String] = []
            if let v = try? EvidenceVerifier().verify(c.quote, collateral: collateral, at: c.time),
               AttestationPolicy.authenticity.evaluate(v, at: c.time).isAccepted {
                ourVerdict = "accepted"
                ourStatus = v.tcb.status.rawValue
                ourAdvisories = v.tcb.advisoryIDs
            }
            #expect(ourVerdict == their["verdict"] as? String, "\(c.name): dcap-qvl says \(their)")
            #expect(ourStatus == their["status"] as? String, "\(c.name)")
            #expect(Set(ourAdvisories) == Set(their["advisory_ids"] as? [String] ?? []), "\(c.name)")
        }
        // The two real samples are accepted by both (the comparison is not vacuous).
        #expect(theirs.prefix(2).allSatisfy { $0["verdict"] as? String == "accepted" })
    }
}
