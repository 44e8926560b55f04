import Attestation
import Foundation

/// `bench derfuzz [N] [SEED]`: the structure-aware DER fuzzer (docs/attestation.md "Fuzzing") over every DER parser
/// and the DER-bearing verification paths, N inputs (default 1,000,000), from the repository's real samples.
/// Prints progress every 100,000 inputs and the executions run; exits non-zero on a finding (a trap ends the
/// process by itself, after the last progress line, with the seed printed first for replay).
func benchDERFuzz(_ h: inout Harness) {
    print("== derfuzz ==")
    let arguments = Array(CommandLine.arguments.dropFirst().drop { $0 != "derfuzz" }.dropFirst())
    let iterations = arguments.first.flatMap { Int($0) } ?? 1_000_000
    let seed = arguments.dropFirst().first.flatMap { UInt64($0) } ?? 0xDE12_7EE5
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let testdata = ProcessInfo.processInfo.environment["DARKNODE_TESTDATA"].map { URL(fileURLWithPath: $0) }
        ?? repository.appendingPathComponent("Tests/Fixtures")
    func load(_ p: String) -> [UInt8] {
        let path = testdata.appendingPathComponent("attestation/" + p).path
        guard let d = FileManager.default.contents(atPath: path) else { fatalError("bench: missing test data \(path)") }
        return [UInt8](d)
    }
    func date(_ s: String) -> Date { try! Date(s, strategy: .iso8601) }
    let nitroText = String(decoding: load("aws-nitro/nitro_attestation.b64"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let samples = DERTreeFuzzer.Samples(
        sgxQuote: load("intel-sgx/sgx_quote_v3.bin"), sgxCollateralJSON: load("intel-sgx/sgx_quote_v3_collateral.json"),
        tdxQuote: load("intel-tdx/tdx_quote_v4.bin"), tdxCollateralJSON: load("intel-tdx/tdx_quote_v4_collateral.json"),
        snpReport: load("amd-sev-snp/milan_vcek_report_v2.bin"), vcek: load("amd-sev-snp/milan_vcek_report_v2.vcek.der"),
        nitroDocument: [UInt8](Data(base64Encoded: nitroText)!), intelTime: date("2025-07-01T00:00:00Z"),
        snpTime: date("2024-06-01T00:00:00Z"), nitroTime: date("2024-09-07T14:37:39Z"),
        amdTestPKI: .init(ark: load("amd-sev-snp/test-pki/ark.der"), ask: load("amd-sev-snp/test-pki/ask.der"),
                          vcek: load("amd-sev-snp/test-pki/vcek.der"), report: load("amd-sev-snp/test-pki/report.bin"),
                          crl: load("amd-sev-snp/test-pki/crl.der"), time: date("2026-01-15T00:00:00Z")))
    print("  seed \(seed), \(iterations) inputs")
    fflush(nil)
    let start = Date()
    do {
        let report = try DERTreeFuzzer.run(samples: samples, iterations: iterations, seed: seed) { partial in
            print("  \(partial.executions) executions, \(partial.findingCount) findings, \(Int(Date().timeIntervalSince(start))) s")
            fflush(nil)
        }
        print("  " + report.summary)
        print("  \(report.executions) executions in \(Int(Date().timeIntervalSince(start))) s")
        for finding in report.findings { print("  FINDING \(finding)") }
        if report.findingCount > 0 { exit(1) }
    } catch {
        print("  seeds did not parse: \(error)")
        exit(1)
    }
}
