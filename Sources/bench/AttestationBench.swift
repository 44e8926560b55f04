import Attestation
import Foundation

/// Verification time per quote/report with collateral in memory (parse, chains, CRLs, collateral signatures, TCB
/// level), beside Phala's dcap-qvl (Rust, via its Python bindings) timed in the same run on the same Intel quotes.
func benchAttestation(_ h: inout Harness) {
    print("== attestation ==")
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let testdata = ProcessInfo.processInfo.environment["DARKNODE_TESTDATA"].map { URL(fileURLWithPath: $0) }
        ?? repository.appendingPathComponent("Tests/Fixtures")
    func path(_ p: String) -> String { testdata.appendingPathComponent("attestation/" + p).path }
    func load(_ p: String) -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: path(p)) else { fatalError("bench: missing test data \(path(p))") }
        return [UInt8](d)
    }
    func date(_ s: String) -> Date { try! Date(s, strategy: .iso8601) }
    let verifier = EvidenceVerifier()
    let sgx = load("intel-sgx/sgx_quote_v3.bin"), tdx = load("intel-tdx/tdx_quote_v4.bin"), snp = load("amd-sev-snp/milan_vcek_report_v2.bin")
    let sgxCollateral = Collateral(intel: try! IntelCollateral(json: load("intel-sgx/sgx_quote_v3_collateral.json")))
    let tdxCollateral = Collateral(intel: try! IntelCollateral(json: load("intel-tdx/tdx_quote_v4_collateral.json")))
    let snpCollateral = Collateral(certificates: [load("amd-sev-snp/milan_vcek_report_v2.vcek.der")])
    let nitroText = String(decoding: load("aws-nitro/nitro_attestation.b64"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let nitro = [UInt8](Data(base64Encoded: nitroText)!)
    let intelTime = date("2025-07-01T00:00:00Z")
    let iterations = 200

    // dcap-qvl first, in a child process, on the same quotes and times.
    let python = ProcessInfo.processInfo.environment["DARKNODE_PYTHON"] ?? repository.appendingPathComponent(".venv/bin/python").path
    let cases: [[String: Any]] = [
        ["name": "sgx", "quote": path("intel-sgx/sgx_quote_v3.bin"), "collateral": path("intel-sgx/sgx_quote_v3_collateral.json"), "now": Int(intelTime.timeIntervalSince1970)],
        ["name": "tdx", "quote": path("intel-tdx/tdx_quote_v4.bin"), "collateral": path("intel-tdx/tdx_quote_v4_collateral.json"), "now": Int(intelTime.timeIntervalSince1970)],
    ]
    var peer: [String: Double] = [:]
    if FileManager.default.isExecutableFile(atPath: python) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repository.appendingPathComponent("scripts/oracles/attestation_dcap_qvl.py").path, "time", String(iterations)]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
            input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: cases))
            try input.fileHandleForWriting.close()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            peer = (try JSONSerialization.jsonObject(with: data) as? [String: Double]) ?? [:]
        } catch {
            print("  dcap-qvl timing failed: \(error)")
        }
    } else {
        print("  dcap-qvl: no Python at \(python) (set DARKNODE_PYTHON); peer figures skipped")
    }

    h.measure("verify SGX v3 quote + collateral (ours)", iterations: iterations) {
        for _ in 0..<iterations { blackHole(try! verifier.verify(sgx, collateral: sgxCollateral, at: intelTime)) }
    }
    if let s = peer["sgx"] { h.record("verify SGX v3 quote + collateral (dcap-qvl)", nanosecondsPerOperation: s * 1e9) }
    h.ratio("verify SGX v3 quote + collateral (ours)", "verify SGX v3 quote + collateral (dcap-qvl)")
    // Collateral verified once and reused (what a node appraising peers does): one quote verification per peer.
    let sgxPrepared = Collateral(preparedIntel: try! PreparedIntelCollateral(sgxCollateral.intel!, at: intelTime))
    h.measure("verify SGX v3 quote, prepared collateral (ours)", iterations: iterations) {
        for _ in 0..<iterations { blackHole(try! verifier.verify(sgx, collateral: sgxPrepared, at: intelTime)) }
    }
    if let s = peer["sgx"] { h.record("verify SGX v3 quote, prepared collateral (dcap-qvl, collateral per quote)", nanosecondsPerOperation: s * 1e9) }
    h.ratio("verify SGX v3 quote, prepared collateral (ours)", "verify SGX v3 quote, prepared collateral (dcap-qvl, collateral per quote)")
    // What a node appraising a peer does: collateral from its CollateralCache (verified once, reused while valid).
    let cache = try! CollateralCache(
        intelCollateral: [("sgx.json", load("intel-sgx/sgx_quote_v3_collateral.json")), ("tdx.json", load("intel-tdx/tdx_quote_v4_collateral.json"))],
        amdCertificates: [])
    for (name, quote, platform) in [("SGX v3", sgx, AttestationPlatform.sgx), ("TDX v4", tdx, .tdx)] {
        let key = platform == .sgx ? "sgx" : "tdx"
        h.measure("verify \(name) quote, collateral cache (ours)", iterations: iterations) {
            for _ in 0..<iterations {
                let parsed = try! Evidence.parse(quote, platform: platform)
                blackHole(try! verifier.verify(parsed, collateral: try! cache.collateral(for: parsed, at: intelTime), at: intelTime))
            }
        }
        if let s = peer[key] { h.record("verify \(name) quote + collateral (dcap-qvl, per quote)", nanosecondsPerOperation: s * 1e9) }
        h.ratio("verify \(name) quote, collateral cache (ours)", "verify \(name) quote + collateral (dcap-qvl, per quote)")
    }
    h.measure("verify TDX v4 quote + collateral (ours)", iterations: iterations) {
        for _ in 0..<iterations { blackHole(try! verifier.verify(tdx, collateral: tdxCollateral, at: intelTime)) }
    }
    if let s = peer["tdx"] { h.record("verify TDX v4 quote + collateral (dcap-qvl)", nanosecondsPerOperation: s * 1e9) }
    h.ratio("verify TDX v4 quote + collateral (ours)", "verify TDX v4 quote + collateral (dcap-qvl)")
    let snpTime = date("2024-06-01T00:00:00Z")
    h.measure("verify SEV-SNP report + VCEK (ours; no peer)", iterations: iterations) {
        for _ in 0..<iterations { blackHole(try! verifier.verify(snp, collateral: snpCollateral, at: snpTime)) }
    }
    let nitroTime = date("2024-09-07T14:37:39Z")
    h.measure("verify Nitro document (ours; no peer)", iterations: iterations) {
        for _ in 0..<iterations { blackHole(try! verifier.verify(nitro, at: nitroTime)) }
    }
    h.measure("parse SGX v3 quote", iterations: 10_000) {
        for _ in 0..<10_000 { blackHole(try! Evidence.parse(sgx, platform: .sgx)) }
    }
}

extension Harness {
    /// Records a figure measured elsewhere in this run (a peer timed in a child process) and prints it.
    mutating func record(_ name: String, nanosecondsPerOperation ns: Double) {
        let result = Result(name: name, nanosecondsPerOperation: ns)
        results.append(result)
        print(String(format: "%-58@ %14@/op %14.0f op/s", name as NSString, Harness.format(ns) as NSString, result.operationsPerSecond))
    }
}
