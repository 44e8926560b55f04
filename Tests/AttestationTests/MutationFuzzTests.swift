import Foundation
import Secp256k1
import SimulationSupport
import Testing
import TestSupport

@testable import Attestation

/// Seeded mutation tests of every parser: hostile variants of the real samples are refused with typed errors, and
/// whole verification never vouches for claims the genuine sample does not make. (Coverage-guided fuzzing of these
/// parsers is libFuzzer's job: docs/fuzzing.md. This loop runs in every `make test`, where libFuzzer does not.)
///
/// Each input is a real sample mutated 1-8 times (bit flips, byte and length-field overwrites with boundary values,
/// truncation, insertion, deletion, duplication). A parser must return a value or a typed error; a trap aborts the
/// run, printing the seed and iteration to replay. Every target must refuse some of its mutants (else the mutations
/// never reached its checks). The normal run is small; for a long run:
///
///     DARKNODE_ATTESTATION_FUZZ_ITERATIONS=1000000 swift test --filter MutationFuzzTests
///
/// (`DARKNODE_ATTESTATION_FUZZ_SEED` picks the seed; the count is the total number of inputs over all targets.)
@Suite(.dedicatedThread) struct MutationFuzzTests {
    struct Target {
        let name: String
        let seed: [UInt8]
        /// Whether the input was accepted (parsed, or verified).
        let run: ([UInt8]) -> Bool
    }

    static func targets() throws -> [Target] {
        let sgxCollateral = try Samples.bytes("intel-sgx/sgx_quote_v3_collateral.json")
        let tdxCollateral = try Samples.tdxCollateral()
        let quote = try IntelQuote(bytes: Samples.sgxQuote())
        let pck = try CertificateChain.certificate(PEM.certificates(bytes: quote.pckCertificateChainPEM)[0], "pck")
        let pckExtension = Array(pck.extensions.first { $0.oid.description == PCKExtension.oid }!.value)
        let sim = try SimulatedEvidence.sign(measurement: Array(repeating: 7, count: 32), reportData: Array(repeating: 9, count: 64),
                                             platformKey: PrivateKey(bytes: Array(repeating: 1, count: 32)))
        let manifestBody = Array(#"{"format":1,"releases":[{"version":"1","platforms":{"sgx":[{"mrenclave":"00ff"}],"nitro":[{"pcr0":"01","pcr1":"02","pcr2":"03"}]}}]}"#.utf8)
        let manifest = try SignedReleaseManifest(body: manifestBody, signatures: []).signed(by: PrivateKey(bytes: Array(repeating: 2, count: 32)))
        let policy = Array(#"{"allowDebug":false,"minimumTCBStatus":"SWHardeningNeeded","tcbGrace":[{"status":"OutOfDate","until":"2026-01-01T00:00:00Z"}],"maximumAgeSeconds":60}"#.utf8)
        let verifier = EvidenceVerifier()
        let vcek = try Samples.snpVCEK()
        let genuineSGX = try verifier.verify(Samples.sgxQuote(), platform: .sgx, at: Samples.sgxTime)
        let genuineSNP = try verifier.verify(Samples.snpReport(), platform: .sevSNP, collateral: Collateral(certificates: [vcek]), at: Samples.snpTime)
        let genuineNitro = try verifier.verify(Samples.nitro(), platform: .nitro, at: Samples.nitroTime)
        /// A mutant may verify (some bytes are not signed), but only with the genuine sample's claims.
        func claimsUnchanged(_ verified: VerifiedEvidence?, _ genuine: VerifiedEvidence, _ name: String) -> Bool {
            guard let verified else { return false }
            #expect(verified.reportData == genuine.reportData && verified.measurements == genuine.measurements && verified.isDebug == genuine.isDebug,
                    "\(name) vouched for claims the genuine sample does not make")
            return true
        }
        var targets: [Target] = [
            Target(name: "sgx quote", seed: try Samples.sgxQuote()) { (try? Evidence.parse($0, platform: .sgx)) != nil },
            Target(name: "tdx quote", seed: try Samples.tdxQuote()) { (try? Evidence.parse($0, platform: .tdx)) != nil },
            Target(name: "snp report", seed: try Samples.snpReport()) { (try? Evidence.parse($0, platform: .sevSNP)) != nil },
            Target(name: "nitro document", seed: try Samples.nitro()) { (try? Evidence.parse($0, platform: .nitro)) != nil },
            Target(name: "simulated", seed: sim.encoded) { (try? Evidence.parse($0, platform: .simulated)) != nil },
            Target(name: "auto-detect", seed: try Samples.tdxQuote()) { (try? Evidence.parse($0)) != nil },
            Target(name: "intel collateral", seed: sgxCollateral) { bytes in
                guard let c = try? IntelCollateral(json: bytes) else { return false }
                _ = try? TCBInfo(json: c.tcbInfoJSON)
                _ = try? QEIdentity(json: c.qeIdentityJSON)
                _ = try? PEM.certificates(c.tcbInfoIssuerChainPEM)
                return true
            },
            Target(name: "tcb info json", seed: tdxCollateral.tcbInfoJSON) { (try? TCBInfo(json: $0)) != nil },
            Target(name: "qe identity json", seed: tdxCollateral.qeIdentityJSON) { (try? QEIdentity(json: $0)) != nil },
            Target(name: "crl", seed: tdxCollateral.pckCRL) { (try? CertificateRevocationList(der: $0, name: "fuzz")) != nil },
            Target(name: "amd certificate", seed: vcek) { (try? AMDCertificate(der: $0, name: "fuzz")) != nil },
            Target(name: "pck extension", seed: pckExtension) { (try? PCKExtension(extensionValue: $0)) != nil },
            Target(name: "pem chain", seed: quote.pckCertificateChainPEM) { (try? PEM.certificates(bytes: $0)) != nil },
            Target(name: "release manifest", seed: manifest.json) { (try? SignedReleaseManifest(json: $0)) != nil },
            Target(name: "policy document", seed: policy) { (try? PolicyDocument(json: $0)) != nil },
            // Whole verification paths (slower; parsers of certificates inside evidence are reached here).
            Target(name: "sgx verify", seed: try Samples.sgxQuote()) { claimsUnchanged(try? verifier.verify($0, platform: .sgx, at: Samples.sgxTime), genuineSGX, "sgx verify") },
            Target(name: "snp verify", seed: try Samples.snpReport()) {
                claimsUnchanged(try? verifier.verify($0, platform: .sevSNP, collateral: Collateral(certificates: [vcek]), at: Samples.snpTime), genuineSNP, "snp verify")
            },
            Target(name: "nitro verify", seed: try Samples.nitro()) { claimsUnchanged(try? verifier.verify($0, platform: .nitro, at: Samples.nitroTime), genuineNitro, "nitro verify") },
        ]
        let snpReport = try Samples.snpReport()
        targets.append(Target(name: "snp vcek via verify", seed: vcek) { cert in
            claimsUnchanged(try? verifier.verify(snpReport, platform: .sevSNP, collateral: Collateral(certificates: [cert]), at: Samples.snpTime), genuineSNP, "snp vcek via verify")
        })
        return targets
    }

    static let boundary: [UInt8] = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x20]

    static func mutate(_ input: [UInt8], rng: inout DeterministicRNG) -> [UInt8] {
        var b = input
        let rounds = 1 + Int(rng.next() % 8)
        for _ in 0..<rounds {
            let n = b.count
            switch rng.next() % 9 {
            case 0 where n > 0: b[Int(rng.next() % UInt64(n))] ^= UInt8(1 << (rng.next() % 8))
            case 1 where n > 0: b[Int(rng.next() % UInt64(n))] = UInt8(truncatingIfNeeded: rng.next())
            case 2 where n > 0: b[Int(rng.next() % UInt64(n))] = boundary[Int(rng.next() % UInt64(boundary.count))]
            case 3 where n > 4:
                // A little-endian length field overwritten with a boundary value.
                let at = Int(rng.next() % UInt64(n - 4))
                let values: [UInt32] = [0, 1, 0xFFFF, 0xFFFF_FFFF, 0x8000_0000, UInt32(n), UInt32(n - at), UInt32(truncatingIfNeeded: rng.next())]
                let v = values[Int(rng.next() % UInt64(values.count))]
                let width = rng.next() % 2 == 0 ? 2 : 4
                for i in 0..<width { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
            case 4: b = Array(b.prefix(Int(rng.next() % UInt64(n + 1))))
            case 5:
                let at = Int(rng.next() % UInt64(n + 1))
                b.insert(contentsOf: (0..<(1 + rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 6 where n > 0:
                let at = Int(rng.next() % UInt64(n))
                b.removeSubrange(at..<min(n, at + 1 + Int(rng.next() % 64)))
            case 7 where n > 0:
                let at = Int(rng.next() % UInt64(n))
                let chunk = Array(b[at..<min(n, at + 1 + Int(rng.next() % 64))])
                b.insert(contentsOf: chunk, at: Int(rng.next() % UInt64(n + 1)))
            default:
                if n > 0 { b[n - 1] ^= 0xff }
            }
        }
        return b
    }

    @Test func mutatedInputsNeverCrashAnyParser() throws {
        let env = ProcessInfo.processInfo.environment
        let total = Int(env["DARKNODE_ATTESTATION_FUZZ_ITERATIONS"] ?? "") ?? 3_800
        let seed = UInt64(env["DARKNODE_ATTESTATION_FUZZ_SEED"] ?? "") ?? 0xA77E57
        let targets = try Self.targets()
        let slowTargets: Set<String> = ["sgx verify", "snp verify", "nitro verify", "snp vcek via verify"]
        var rng = DeterministicRNG(seed: seed)
        var ran = 0
        var refused: [String: Int] = [:]
        var perTarget: [String: Int] = [:]
        while ran < total {
            for target in targets where ran < total {
                // Whole-verification targets get one input in 20: they cost ~100x a parse.
                if slowTargets.contains(target.name), rng.next() % 20 != 0 { continue }
                let input = Self.mutate(target.seed, rng: &rng)
                if !target.run(input) { refused[target.name, default: 0] += 1 }
                ran += 1
                perTarget[target.name, default: 0] += 1
            }
        }
        for target in targets {
            #expect(refused[target.name, default: 0] > 0, "no mutant of \(target.name) was refused: the mutations never reached its checks")
        }
        if total >= 100_000 {
            print("attestation mutation test: seed \(seed), \(ran) inputs: " + perTarget.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) (\(refused[$0.key, default: 0]) refused)" }.joined(separator: ", "))
        }
    }

    /// The mutator changes its input (a fuzz run over unchanged seeds would prove nothing).
    @Test func mutatorChangesInputs() throws {
        var rng = DeterministicRNG(seed: 1)
        let seed = try Samples.snpReport()
        let changed = (0..<200).filter { _ in Self.mutate(seed, rng: &rng) != seed }.count
        #expect(changed >= 190)
    }
}
