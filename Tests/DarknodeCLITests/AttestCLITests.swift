import Attestation
import Crypto
import Foundation
import Secp256k1
import Testing
import TestSupport

/// Goal: a node's evidence, produced and checked only through the shipped command-line tool, is accepted exactly
/// when the verifier's policy says so. Method: run the built `darknode` executable as a subprocess —
/// `init --platform simulated`, `attest show`, `attest manifest sign`, `attest verify` — and read exit statuses and
/// the JSON they print. Expected values come from outside the tool where possible: the measurement is SHA-256 of
/// the executable file as this test reads it, and the report data is recomputed with the Attestation module.
@Suite("darknode init / attest show / attest verify (subprocess)", .dedicatedThreadForBlockingWaits)
struct AttestCLITests {
    /// The darknode executable that `swift build` / `swift test` put next to the test bundle.
    static var darknode: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("darknode")
    }

    @Test func simulatedEvidenceIsAcceptedOnlyWhenThePolicyAllowsSimulation() throws {
        let work = try Workspace()
        let node = try work.initializedNode(named: "node")
        let nonce = Hex.encode((0..<32).map { UInt8($0 ^ 0x5A) })
        let shown = try node.show(nonce: nonce, evidenceFile: work.file("evidence.bin"))

        // What `attest show` printed is what the evidence carries, and it is bound the way verifiers recompute it.
        #expect(shown["platform"] as? String == "simulated")
        #expect(shown["identityKey"] as? String == node.identityKey)
        #expect(shown["nonce"] as? String == nonce)
        #expect(shown["measurement"] as? String == (try Self.sha256(ofFile: Self.darknode.path)))
        let identityKey = try PublicKey(encoded: try #require(Hex.decode(node.identityKey)))
        let binding = ReportDataBinding(identityKey: identityKey, nonce: try #require(Hex.decode(nonce)))
        #expect(shown["reportData"] as? String == Hex.encode(binding.reportData))

        // Accepted by a policy that allows simulation and expects this node's key and this nonce.
        let allowing = try work.policy("allow.json", ["allowSimulation": true, "reportDataBinding": ["identityKey": node.identityKey, "nonce": nonce]])
        let accepted = try work.verify(work.file("evidence.bin"), policy: allowing)
        #expect(accepted.status == 0)
        #expect(accepted.json["verdict"] as? String == "accepted")
        #expect(accepted.json["platform"] as? String == "simulated")
        #expect((accepted.json["measurements"] as? [String: String])?["measurement"] == shown["measurement"] as? String)
        #expect(accepted.json["reportData"] as? String == shown["reportData"] as? String)
        #expect((accepted.json["reasons"] as? [String]) == [])

        // Rejected, with the check's name, by a policy that does not allow simulation, and by the default policy.
        let forbidding = try work.policy("forbid.json", ["allowSimulation": false])
        for policy in [forbidding, nil] {
            let rejected = try work.verify(work.file("evidence.bin"), policy: policy)
            #expect(rejected.status == 1)
            #expect(rejected.json["verdict"] as? String == "rejected")
            #expect((rejected.json["reasons"] as? [String] ?? []).contains { $0.hasPrefix("SimulationPolicy:") })
        }
    }

    @Test func evidenceIsBoundToTheNonceAndTheIdentityKey() throws {
        let work = try Workspace()
        let node = try work.initializedNode(named: "node")
        let nonce = Hex.encode([UInt8](repeating: 0x11, count: 32))
        _ = try node.show(nonce: nonce, evidenceFile: work.file("evidence.bin"))

        // A verifier that sent another nonce (a replayed answer) rejects it.
        let otherNonce = Hex.encode([UInt8](repeating: 0x12, count: 32))
        let wrongNonce = try work.policy("nonce.json", ["allowSimulation": true, "reportDataBinding": ["identityKey": node.identityKey, "nonce": otherNonce]])
        let replay = try work.verify(work.file("evidence.bin"), policy: wrongNonce)
        #expect(replay.status == 1)
        #expect((replay.json["reasons"] as? [String] ?? []).contains { $0.hasPrefix("ReportDataBindingPolicy:") })

        // Another node's evidence over the same nonce does not vouch for this node's key.
        let other = try work.initializedNode(named: "other")
        #expect(other.identityKey != node.identityKey)
        _ = try other.show(nonce: nonce, evidenceFile: work.file("other.bin"))
        let thisNode = try work.policy("this.json", ["allowSimulation": true, "reportDataBinding": ["identityKey": node.identityKey, "nonce": nonce]])
        let impostor = try work.verify(work.file("other.bin"), policy: thisNode)
        #expect(impostor.status == 1)
        #expect((impostor.json["reasons"] as? [String] ?? []).contains { $0.hasPrefix("ReportDataBindingPolicy:") })
        #expect(try work.verify(work.file("evidence.bin"), policy: thisNode).status == 0)

        // A flipped bit in the evidence breaks the platform signature: rejected by the verifier itself.
        var evidence = try [UInt8](Data(contentsOf: URL(fileURLWithPath: work.file("evidence.bin"))))
        evidence[evidence.count - 70] ^= 0x01
        try Data(evidence).write(to: URL(fileURLWithPath: work.file("tampered.bin")))
        let tampered = try work.verify(work.file("tampered.bin"), policy: thisNode)
        #expect(tampered.status == 1)
        #expect((tampered.json["reasons"] as? [String] ?? []).contains { $0.hasPrefix("EvidenceVerifier:") })
    }

    @Test func aSecondBinaryIsRejectedByAManifestThatListsOnlyTheFirst() throws {
        let work = try Workspace()
        // The second binary: the same program with bytes appended (an ELF file still runs), so another measurement.
        let second = work.file("darknode-second")
        var image = try Data(contentsOf: Self.darknode)
        image.append(contentsOf: Array("darknode test: a different build".utf8))
        try image.write(to: URL(fileURLWithPath: second))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: second)

        let first = try work.initializedNode(named: "first")
        let other = try work.initializedNode(named: "second", executable: URL(fileURLWithPath: second))
        let firstShown = try first.show(nonce: "00", evidenceFile: work.file("first.bin"))
        let secondShown = try other.show(nonce: "00", evidenceFile: work.file("second.bin"))
        let firstMeasurement = try #require(firstShown["measurement"] as? String)
        let secondMeasurement = try #require(secondShown["measurement"] as? String)
        #expect(secondMeasurement == (try Self.sha256(ofFile: second)))
        #expect(firstMeasurement != secondMeasurement)

        // A release manifest listing only the first binary, signed by a release key through the CLI.
        let releaseKey = PrivateKey.generate()
        try Data(Hex.encode(releaseKey.bytes).utf8).write(to: URL(fileURLWithPath: work.file("release.key")))
        let body: [String: Any] = ["format": 1, "releases": [["version": "1.0.0", "platforms": ["simulated": [["measurement": firstMeasurement]]]]]]
        try JSONSerialization.data(withJSONObject: body).write(to: URL(fileURLWithPath: work.file("manifest-body.json")))
        let signing = try Self.run(
            Self.darknode, ["attest", "manifest", "sign", work.file("manifest-body.json"), "--key", work.file("release.key"), "--output", work.file("manifest.json")])
        #expect(signing.status == 0, "\(signing.standardError)")
        let releaseKeyHex = Hex.encode(releaseKey.publicKey.compressed)
        let checked = try Self.run(Self.darknode, ["attest", "manifest", "verify", work.file("manifest.json"), "--release-key", releaseKeyHex, "--threshold", "1"])
        #expect(checked.status == 0)

        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work.file("manifest.json"))))
        let policy = try work.policy("manifest-policy.json", [
            "allowSimulation": true, "releaseManifest": manifest, "releaseKeys": [releaseKeyHex], "releaseThreshold": 1,
        ])
        let accepted = try work.verify(work.file("first.bin"), policy: policy)
        #expect(accepted.status == 0)
        #expect(accepted.json["verdict"] as? String == "accepted")

        let rejected = try work.verify(work.file("second.bin"), policy: policy)
        #expect(rejected.status == 1)
        #expect(rejected.json["verdict"] as? String == "rejected")
        #expect(
            rejected.json["reasons"] as? [String]
                == ["MeasurementPolicy: simulated measurement measurement=\(secondMeasurement) is not in any release of the manifest"])
    }

    @Test func attestShowRefusesAnOverlongNonceAndAnUninitialisedDirectory() throws {
        let work = try Workspace()
        let node = try work.initializedNode(named: "node")
        let overlong = try Self.run(Self.darknode, ["attest", "show", "--data-dir", node.directory, "--nonce", String(repeating: "ab", count: 65)])
        #expect(overlong.status != 0)
        #expect(overlong.standardError.contains("--nonce is longer than 64 bytes"))
        let missing = try Self.run(Self.darknode, ["attest", "show", "--data-dir", work.file("nothing-here")])
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("notInitialized"))
    }

    // MARK: - Helpers

    struct Output {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    static func run(_ executable: URL, _ arguments: [String], timeoutSeconds: Double = 180) throws -> Output {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw CLIFailure("executable not found at \(executable.path): build it with `swift build --product darknode`")
        }
        // Both streams go to files, so neither can fill a pipe and stall the child while we wait for it.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-cli-\(UUID().uuidString)")
        let outputURL = capture.appendingPathExtension("out")
        let errorURL = capture.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outputURL)
            try? FileManager.default.removeItem(at: errorURL)
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
        // Bounded: a hung child is killed and fails its test instead of stalling the suite.
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw CLIFailure("`darknode \(arguments.joined(separator: " "))` did not exit within \(Int(timeoutSeconds)) s; killed")
        }
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, standardOutput: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
            standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
    }

    static func sha256(ofFile path: String) throws -> String {
        Hex.encode(Array(SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path)))))
    }

    struct CLIFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// A node made by `darknode init` with one executable, driven by the same executable.
    struct Node {
        let directory: String
        let executable: URL
        let identityKey: String

        /// `attest show --nonce N --out FILE`: the printed JSON; the raw evidence is in `evidenceFile`.
        func show(nonce: String, evidenceFile: String) throws -> [String: Any] {
            let shown = try AttestCLITests.run(executable, ["attest", "show", "--data-dir", directory, "--nonce", nonce, "--out", evidenceFile])
            guard shown.status == 0 else { throw CLIFailure("attest show failed (\(shown.status)): \(shown.standardError)") }
            guard let object = try JSONSerialization.jsonObject(with: Data(shown.standardOutput.utf8)) as? [String: Any] else {
                throw CLIFailure("attest show printed no JSON object: \(shown.standardOutput)")
            }
            #expect(object["evidenceFile"] as? String == evidenceFile)
            #expect(FileManager.default.fileExists(atPath: evidenceFile))
            return object
        }
    }

    /// A temporary directory for data directories, evidence and policy files; removed at the end of the test.
    final class Workspace {
        let path: String

        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-cli-tests-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        func file(_ name: String) -> String { path + "/" + name }

        /// `darknode init --data-dir DIR --platform simulated`, returning the identity key it printed.
        func initializedNode(named name: String, executable: URL = AttestCLITests.darknode) throws -> Node {
            let directory = file(name)
            let result = try AttestCLITests.run(executable, ["init", "--data-dir", directory, "--platform", "simulated"])
            guard result.status == 0 else { throw CLIFailure("init failed (\(result.status)): \(result.standardError)") }
            #expect(result.standardOutput.contains("WARNING: simulated enclave: INSECURE"))
            let line = result.standardOutput.split(separator: "\n").first { $0.hasPrefix("identity key:") }
            guard let key = line?.split(separator: " ").last.map(String.init), Hex.decode(key)?.count == 33 else {
                throw CLIFailure("init printed no identity key: \(result.standardOutput)")
            }
            return Node(directory: directory, executable: executable, identityKey: key)
        }

        func policy(_ name: String, _ object: [String: Any]) throws -> String {
            let path = file(name)
            try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
            return path
        }

        /// `darknode attest verify FILE --platform simulated [--policy P]`: exit status and the JSON it printed.
        func verify(_ evidence: String, policy: String?) throws -> (status: Int32, json: [String: Any]) {
            var arguments = ["attest", "verify", evidence, "--platform", "simulated"]
            if let policy { arguments += ["--policy", policy] }
            let result = try AttestCLITests.run(AttestCLITests.darknode, arguments)
            guard let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] else {
                throw CLIFailure("attest verify printed no JSON object: \(result.standardOutput) \(result.standardError)")
            }
            return (result.status, object)
        }
    }
}
