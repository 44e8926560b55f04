import ArgumentParser
import Attestation
import Foundation
import Secp256k1

/// `darknode attest …`: check TEE evidence and release manifests. A command group: add further subcommands
/// (e.g. `show`) to `subcommands` below.
struct AttestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Verify TEE evidence (SGX, TDX, SEV-SNP, Nitro, simulated) and signed release manifests.",
        subcommands: [AttestVerifyCommand.self, AttestShowCommand.self, AttestManifestCommand.self])
}

/// `darknode attest verify FILE …`: prints one JSON object and exits 0 only when the verdict is `accepted`.
struct AttestVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify evidence and print one JSON object (platform, measurements, report data, TCB status, verdict, reasons).",
        discussion: """
            Without --policy the verdict covers authenticity: signatures, certificate chains to the pinned roots, \
            collateral (TCB level found), debug mode, and no simulation. Exit status 0 only when accepted.
            Evidence may be raw bytes, hex text or base64 text (e.g. Nitro .b64 files).
            """)

    @Argument(help: "The evidence file.")
    var file: String

    @Option(help: "auto | sgx | tdx | sev-snp | nitro | simulated")
    var platform: String = "auto"

    @Option(help: "Intel collateral JSON (dcap-qvl format: TCB info, QE identity, CRLs and issuer chains).")
    var collateral: String?

    @Option(name: .customLong("cert-chain"), help: "A PEM or DER certificate file (SEV-SNP VCEK/VLEK, ASK); repeatable.")
    var certChain: [String] = []

    @Option(name: .customLong("amd-crl"), help: "An AMD KDS CRL, DER (GET /vcek/v1/{product}/crl); repeatable.")
    var amdCRL: [String] = []

    @Option(help: "Verification time, ISO 8601 (e.g. 2025-07-01T00:00:00Z); default now.")
    var at: String?

    @Option(help: "Policy JSON (see docs/attestation.md).")
    var policy: String?

    func run() throws {
        var output: [String: Any] = [:]
        let accepted = evaluate(into: &output)
        output["verdict"] = accepted ? "accepted" : "rejected"
        let data = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
        if !accepted { throw ExitCode(1) }
    }

    /// Fills `output`; returns whether the evidence is accepted. Every failure becomes a reason, never a crash.
    private func evaluate(into output: inout [String: Any]) -> Bool {
        func reject(_ reason: String) -> Bool {
            output["reasons"] = (output["reasons"] as? [String] ?? []) + [reason]
            return false
        }
        let chosen: AttestationPlatform?
        if platform == "auto" {
            chosen = nil
        } else if let p = AttestationPlatform(rawValue: platform) {
            chosen = p
        } else {
            return reject("arguments: unknown platform \(platform)")
        }
        let time: Date
        if let at {
            guard let t = try? Date(at, strategy: .iso8601) else { return reject("arguments: --at \(at) is not ISO 8601") }
            time = t
        } else {
            time = Date()
        }
        output["verifiedAt"] = time.formatted(.iso8601)
        let evidence: [UInt8]
        var collateralValue = Collateral()
        var policyDocument: PolicyDocument? = nil
        do {
            evidence = try EvidenceFile.decode(try EvidenceFile.read(file), platform: chosen)
            if let collateral { collateralValue.intel = try IntelCollateral(json: try EvidenceFile.read(collateral)) }
            for path in certChain { collateralValue.certificates += try EvidenceFile.certificates(try EvidenceFile.read(path)) }
            for path in amdCRL { collateralValue.amdCRLs.append(try EvidenceFile.read(path)) }
            if let policy { policyDocument = try PolicyDocument(json: try EvidenceFile.read(policy)) }
        } catch {
            return reject("input: \(error)")
        }
        let verified: VerifiedEvidence
        do {
            verified = try EvidenceVerifier().verify(evidence, platform: chosen, collateral: collateralValue, at: time)
        } catch {
            if let parsed = try? Evidence.parse(evidence, platform: chosen) {
                output["platform"] = parsed.platform.rawValue
                output["reportData"] = Hex.encode(parsed.reportData)
            }
            return reject("EvidenceVerifier: \(error)")
        }
        output["platform"] = verified.platform.rawValue
        output["measurements"] = verified.measurements.mapValues { Hex.encode($0) }
        output["reportData"] = Hex.encode(verified.reportData)
        output["tcbStatus"] = verified.tcb.status.rawValue
        output["advisoryIDs"] = verified.tcb.advisoryIDs
        if let qe = verified.tcb.qeStatus { output["qeTCBStatus"] = qe.rawValue }
        if let date = verified.tcb.tcbDate { output["tcbDate"] = date.formatted(.iso8601) }
        if let produced = verified.producedAt { output["producedAt"] = produced.formatted(.iso8601) }
        output["debug"] = verified.isDebug
        output["collateralChecked"] = verified.collateralChecked
        output["revocationChecked"] = verified.revocationChecked
        let decision = (policyDocument?.policy ?? .authenticity).evaluate(verified, binding: policyDocument?.binding, at: time)
        output["reasons"] = decision.reasons
        return decision.isAccepted
    }
}

/// `darknode attest manifest sign|verify`: k-of-m signed release manifests.
struct AttestManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Sign and verify release manifests (accepted measurements per release, signed k-of-m by release keys).",
        subcommands: [Keygen.self, AddRelease.self, RetireRelease.self, Sign.self, Verify.self])

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a manifest body (or add signatures to a signed manifest) and print the signed manifest JSON.")

        @Argument(help: "A manifest body JSON, or a signed manifest to add signatures to.")
        var file: String

        @Option(help: "A file holding a 32-byte secp256k1 release private key as hex; repeatable.")
        var key: [String] = []

        @Option(help: "Write the signed manifest here instead of standard output.")
        var output: String?

        func run() throws {
            guard !key.isEmpty else { throw ValidationError("give at least one --key") }
            let input = try EvidenceFile.read(file)
            var signed: SignedReleaseManifest
            if let envelope = try? SignedReleaseManifest(json: input) {
                signed = envelope
            } else {
                _ = try ReleaseManifest(body: input)  // refuse to sign a body that does not parse
                signed = SignedReleaseManifest(body: input, signatures: [])
            }
            for path in key {
                let text = String(decoding: try EvidenceFile.read(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard let bytes = Hex.decode(text), let privateKey = try? PrivateKey(bytes: bytes) else {
                    throw ValidationError("\(path) does not hold a 32-byte secp256k1 private key in hex")
                }
                signed = try signed.signed(by: privateKey)
            }
            let json = signed.json
            if let output {
                try Data(json).write(to: URL(fileURLWithPath: output))
            } else {
                print(String(decoding: json, as: UTF8.self))
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a signed manifest against release keys and a threshold; prints one JSON object, exit 0 only when valid.")

        @Argument(help: "The signed manifest JSON.")
        var file: String

        @Option(name: .customLong("release-key"), help: "A trusted release public key (33-byte compressed hex); repeatable.")
        var releaseKey: [String] = []

        @Option(help: "How many distinct release keys must have signed.")
        var threshold: Int

        func run() throws {
            var output: [String: Any] = [:]
            var ok = false
            do {
                var keys: [PublicKey] = []
                for k in releaseKey {
                    guard let b = Hex.decode(k), let key = try? PublicKey(encoded: b) else { throw ValidationError("\(k) is not a public key") }
                    keys.append(key)
                }
                let signed = try SignedReleaseManifest(json: try EvidenceFile.read(file))
                let manifest = try signed.verify(releaseKeys: keys, threshold: threshold)
                output["signers"] = signed.signatures.map { Hex.encode($0.key.compressed) }
                output["releases"] = manifest.releases.map { release in
                    ["version": release.version, "platforms": release.measurements.keys.map(\.rawValue).sorted()] as [String: Any]
                }
                ok = true
            } catch {
                output["reasons"] = ["\(error)"]
            }
            output["verdict"] = ok ? "valid" : "invalid"
            let data = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            if !ok { throw ExitCode(1) }
        }
    }
}

/// Reading and decoding evidence files: raw bytes, or hex / base64 text wrapping them.
enum EvidenceFile {
    static func decode(_ bytes: [UInt8], platform: AttestationPlatform?) throws -> [UInt8] {
        if (try? Evidence.parse(bytes, platform: platform)) != nil { return bytes }
        let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        if let hex = Hex.decode(text), !hex.isEmpty { return hex }
        if let data = Data(base64Encoded: text), !data.isEmpty { return [UInt8](data) }
        return bytes  // let the parser report what is wrong
    }

    static func read(_ path: String) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// DER certificates from a PEM file (one or more blocks) or a single DER file.
    static func certificates(_ bytes: [UInt8]) throws -> [[UInt8]] {
        if bytes.first == 0x30 { return [bytes] }
        return try PEM.certificates(bytes: bytes)
    }
}

