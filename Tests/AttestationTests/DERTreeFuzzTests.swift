import Foundation
import Testing
import TestSupport

@testable import Attestation

/// A small seeded run of the structure-aware DER fuzzer (the long run is `bench derfuzz`: see docs/attestation.md).
@Suite(.dedicatedThread) struct DERTreeFuzzTests {
    static func samples() throws -> DERTreeFuzzer.Samples {
        DERTreeFuzzer.Samples(
            sgxQuote: try Samples.sgxQuote(), sgxCollateralJSON: try Samples.bytes("intel-sgx/sgx_quote_v3_collateral.json"),
            tdxQuote: try Samples.tdxQuote(), tdxCollateralJSON: try Samples.bytes("intel-tdx/tdx_quote_v4_collateral.json"),
            snpReport: try Samples.snpReport(), vcek: try Samples.snpVCEK(), nitroDocument: try Samples.nitro(),
            intelTime: Samples.sgxTime, snpTime: Samples.snpTime, nitroTime: Samples.nitroTime,
            amdTestPKI: .init(ark: try AMDRevocationTests.file("ark.der"), ask: try AMDRevocationTests.file("ask.der"),
                              vcek: try AMDRevocationTests.file("vcek.der"), report: try AMDRevocationTests.file("report.bin"),
                              crl: try AMDRevocationTests.file("crl.der"), time: AMDRevocationTests.inWindow))
    }

    @Test func seededRunFindsNothingAndReachesEveryTarget() throws {
        let env = ProcessInfo.processInfo.environment
        let iterations = Int(env["DARKNODE_DER_FUZZ_ITERATIONS"] ?? "") ?? 4_000
        let seed = UInt64(env["DARKNODE_DER_FUZZ_SEED"] ?? "") ?? 0xDE12_7EE5
        let report = try DERTreeFuzzer.run(samples: Self.samples(), iterations: iterations, seed: seed)
        #expect(report.executions == iterations)
        #expect(report.findingCount == 0, "\(report.findings)")
        #expect(report.targets.count == 12, "\(report.summary)")
        // The parsers see both well-formed mutants (accepted) and broken ones: the mutations are neither all
        // fatal nor all no-ops.
        for name in ["amd certificate", "x509 certificate", "crl", "pck extension"] {
            let count = try #require(report.targets[name])
            #expect(count.accepted > 0 && count.accepted < count.executions, "\(name): \(count.accepted) of \(count.executions)")
        }
        print(report.summary)
    }

    /// The tree round-trips every seed byte for byte (mutations, not the encoder, make the inputs differ).
    @Test func treesReencodeTheirSeedsExactly() throws {
        let s = try Self.samples()
        let quote = try IntelQuote(bytes: s.sgxQuote)
        let ders = [s.vcek] + TrustAnchors.production.amdCertificates + (try PEM.certificates(bytes: quote.pckCertificateChainPEM))
            + [try IntelCollateral(json: s.sgxCollateralJSON).pckCRL, try AMDRevocationTests.file("crl.der")]
        for der in ders {
            let tree = try DERTreeFuzzer.Node(der: der)
            #expect(tree.encoded == der)
            #expect(tree.count > 20)
        }
    }

    /// Re-embedding a PCK chain keeps the quote valid when the chain is the original one.
    @Test func quoteSurgeryWithTheOriginalChainVerifies() throws {
        let s = try Self.samples()
        let quote = try IntelQuote(bytes: s.sgxQuote)
        let chain = try PEM.certificates(bytes: quote.pckCertificateChainPEM)
        let rebuilt = try #require(IntelQuoteSurgery.replacingPCKChain(s.sgxQuote, carriedPEM: quote.pckCertificateChainPEM, with: chain))
        #expect(try IntelQuote(bytes: rebuilt).pckCertificateChainPEM != quote.pckCertificateChainPEM || rebuilt == s.sgxQuote)
        _ = try EvidenceVerifier().verify(rebuilt, platform: .sgx, at: s.intelTime)
    }
}
