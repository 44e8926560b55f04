import Attestation
import Foundation
import Secp256k1
import Testing
import TestSupport

/// Done-when #1 of issue 17 at process level: four `darknode run` processes, each with its own data directory and
/// darknode.toml, on fake configfs-tsm trees serving the real TDX and SEV-SNP samples, admit each other through the
/// hardware appraiser (policy.json with a signed release manifest, the collateral cache directory), and re-attest
/// each other; a node serving the debug SNP report and one serving the SGX sample (a measurement the manifest
/// leaves out) are refused, with the reason in the refusing node's log.
///
/// The fake trees and the sample binding go through the debug-only test seam `DARKNODE_TEST_FAKE_HARDWARE`
/// (Sources/darknode/TestSeams/FakeHardwareSeam.swift, docs/enclave.md): a captured sample carries fixed report data
/// that no fresh handshake can reproduce, so each node expects its listed peers' samples' own report data, and
/// appraises at 2025-07-01T00:00:00Z, inside the samples' collateral windows. Everything else is production code.
@Suite("darknode run: a hardware mesh on fake configfs-tsm trees (subprocesses)", .serialized)
struct HardwareMeshProcessTests {
    enum Sample: String {
        case tdx, snp, snpDebug, sgx

        var evidencePath: String {
            switch self {
            case .tdx: "attestation/intel-tdx/tdx_quote_v4.bin"
            case .snp: "attestation/amd-sev-snp/milan_vcek_report_v2.bin"
            case .snpDebug: "attestation/amd-sev-snp/milan_vcek_report_v2_debug.bin"
            case .sgx: "attestation/intel-sgx/sgx_quote_v3.bin"
            }
        }
    }

    static let appraisalTime = "2025-07-01T00:00:00Z"

    /// A child `darknode` process whose standard output (JSON lines) and error go to files; killed when dropped.
    final class Child {
        let process = Process()
        let output: URL
        let errors: URL

        init(_ arguments: [String], seam: String? = nil, logs: String) throws {
            output = URL(fileURLWithPath: logs + ".jsonl")
            errors = URL(fileURLWithPath: logs + ".err")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.executableURL = AttestCLITests.darknode
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            if let seam { environment["DARKNODE_TEST_FAKE_HARDWARE"] = seam }
            process.environment = environment
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
        }

        var standardOutput: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        var standardError: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

        var events: [[String: Any]] {
            standardOutput.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }

        func events(_ name: String) -> [[String: Any]] { events.filter { $0["event"] as? String == name } }

        /// Waits (polling with Task.sleep) for the process to exit; kills it after `seconds`.
        func exitStatus(within seconds: Double) async -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            guard !process.isRunning else {
                kill()
                return nil
            }
            return process.terminationStatus
        }

        /// SIGTERM (a graceful stop), then SIGKILL if it is still running 10 s later.
        func stop() async {
            guard process.isRunning else { return }
            Foundation.kill(process.processIdentifier, SIGTERM)
            if await exitStatus(within: 10) == nil { kill() }
        }

        /// SIGKILL without waiting (Foundation reaps the child): for cleanup paths that cannot await.
        func kill() {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }

        deinit { kill() }
    }

    /// One node: its data directory, fake device tree, seam file and port.
    struct NodeFiles {
        let name: String
        let sample: Sample
        let directory: String
        let seam: String
        let port: Int
        var identity = ""

        var platform: String { sample == .sgx ? "sgx-gramine" : "configfs-tsm" }
    }

    @Test func fourProcessesAdmitEachOtherThroughTheHardwareAppraiserAndRefuseDebugAndWrongMeasurement() async throws {
        let work = try AttestCLITests.Workspace()
        let root = work.path
        let collateral = try Self.collateralDirectory(in: root)
        let policy = root + "/policy.json"
        try Self.writePolicy(to: policy)
        let basePort = Int.random(in: 20_000...40_000)

        var nodes: [NodeFiles] = []
        for (i, sample) in [Sample.tdx, .snp, .tdx, .snp, .snpDebug, .sgx].enumerated() {
            let name = i < 4 ? "node-\(i)" : (sample == .snpDebug ? "debug" : "wrong-measurement")
            var node = NodeFiles(name: name, sample: sample, directory: root + "/\(name)", seam: root + "/\(name).seam.json", port: basePort + i)
            try Self.writeTree(for: node, root: root, sampleReportData: [:])
            // `darknode init` on the fake device: the identity key is generated and sealed as on hardware.
            var arguments = ["init", "--data-dir", node.directory, "--platform", node.platform]
            if sample != .sgx { arguments += ["--provisioned-sealing-key", root + "/\(name).sealing.key"] }
            let initialise = try Child(arguments, seam: node.seam, logs: root + "/\(name).init")
            let status = await initialise.exitStatus(within: 120)
            try #require(status == 0, "init \(name): \(initialise.standardOutput) \(initialise.standardError)")
            #expect(initialise.standardError.contains("WARNING: TEST SEAM DARKNODE_TEST_FAKE_HARDWARE"))
            let line = initialise.standardOutput.split(separator: "\n").first { $0.hasPrefix("identity key:") }
            node.identity = try #require(line?.split(separator: " ").last.map(String.init))
            nodes.append(node)
        }
        // Every node expects each listed peer's evidence to carry that peer's sample's report data.
        let sampleReportData = Dictionary(uniqueKeysWithValues: try nodes.map { ($0.identity, try TestData.path($0.sample.evidencePath)) })
        let mesh = Array(nodes[0..<4])
        for (i, node) in nodes.enumerated() {
            try Self.writeTree(for: node, root: root, sampleReportData: sampleReportData)
            let peers = i < 4 ? mesh.filter { $0.name != node.name } : [nodes[0]]
            // Node 0 admits the outsiders' identities, so what refuses them is their evidence.
            let admitted = i == 0 ? nodes.filter { $0.name != node.name } : peers
            try Self.writeConfiguration(for: node, root: root, policy: policy, collateral: collateral, peers: peers, admitted: admitted)
        }

        let members = try mesh.map { try Child(["run", "--data-dir", $0.directory], seam: $0.seam, logs: root + "/\($0.name).run") }
        defer { for member in members { member.kill() } }
        func latestStatus(_ child: Child) -> [String: Any]? { child.events("status").last }
        let meshed = await waitFor("each of the four nodes connected to three peers and re-attested them twice", seconds: 120) {
            members.allSatisfy { member in
                guard let status = latestStatus(member) else { return false }
                return status["connected"] as? Int == 3 && (status["reattestations"] as? Int ?? 0) >= 6
            }
        }
        for (member, node) in zip(members, mesh) {
            let listening = member.events("listening").first
            #expect(listening?["platform"] as? String == (node.sample == .tdx ? "tdx" : "sev-snp"), "\(node.name): \(String(describing: listening))")
            let platforms = Set(member.events("connected").compactMap { $0["platform"] as? String })
            #expect(platforms == ["Darknode TDX", "Darknode SEV-SNP"], "\(node.name) connected to \(platforms)")
            // Two members dialling each other at once may close one of the two handshakes; evidence is never refused.
            let refusedEvidence = member.events("refused").filter { ($0["reason"] as? String ?? "").contains("assertion") }
            #expect(refusedEvidence.isEmpty && member.events("evicted").isEmpty, "\(node.name): \(refusedEvidence) \(member.events("evicted"))")
        }
        try #require(meshed, "logs: \(members.map { $0.standardOutput.suffix(600) + $0.standardError.suffix(600) })")

        // The outsiders dial node 0, which refuses each with the policy's reason in its log.
        let outsiders = try nodes[4...].map { try Child(["run", "--data-dir", $0.directory], seam: $0.seam, logs: root + "/\($0.name).run") }
        defer { for outsider in outsiders { outsider.kill() } }
        // A refused handshake names no identity (the peer never proved one); the reasons name the evidence.
        for (outsider, reason) in zip(nodes[4...], [
            "DebugForbiddenPolicy: SEV-SNP guest policy allows debugging", "MeasurementPolicy: sgx measurement mrenclave=",
        ]) {
            let refused = await waitFor("node-0 refusing \(outsider.name) with \(reason)", seconds: 90) {
                members[0].events("refused").contains { ($0["reason"] as? String ?? "").contains(reason) }
            }
            #expect(refused, "node-0 refusals: \(members[0].events("refused").prefix(4))")
        }
        #expect(members[0].events("connected").allSatisfy { event in !nodes[4...].contains { $0.identity == event["identity"] as? String } })
        #expect(latestStatus(members[0])?["connected"] as? Int == 3)
        for child in outsiders + members { await child.stop() }
    }

    // MARK: Files

    /// The fake device tree and the seam file: configfs-tsm (an empty report root; the seam plays the kernel) for
    /// TDX and SNP, Gramine's /dev/attestation files (plain files) for SGX.
    static func writeTree(for node: NodeFiles, root: String, sampleReportData: [String: String]) throws {
        let tree = root + "/\(node.name).tree"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        var seam: [String: Any] = ["appraisalTime": appraisalTime, "sampleReportData": sampleReportData]
        let sample = try TestData.path(node.sample.evidencePath)
        switch node.sample {
        case .tdx, .snp, .snpDebug:
            let key = root + "/\(node.name).sealing.key"
            if !FileManager.default.fileExists(atPath: key) { try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: key)) }
            seam["configfsTSM"] = ["reportRoot": tree, "provider": node.sample == .tdx ? "tdx_guest" : "sev_guest", "outblob": sample]
        case .sgx:
            let bytes = try TestData.bytes(node.sample.evidencePath)
            let body = Array(bytes[48..<432])
            try FileManager.default.createDirectory(atPath: tree + "/keys", withIntermediateDirectories: true)
            let files: [(String, [UInt8])] = [
                ("attestation_type", Array("dcap\n".utf8)), ("my_target_info", Array(body[64..<96]) + [UInt8](repeating: 0, count: 480)),
                ("report", body + [UInt8](repeating: 0, count: 48)), ("quote", bytes), ("user_report_data", []),
                ("keys/_sgx_mrenclave", [UInt8](repeating: 0x11, count: 16)), ("keys/_sgx_mrsigner", [UInt8](repeating: 0x22, count: 16)),
            ]
            for (name, contents) in files { try Data(contents).write(to: URL(fileURLWithPath: tree + "/" + name)) }
            seam["gramineRoot"] = tree
        }
        try JSONSerialization.data(withJSONObject: seam, options: [.sortedKeys]).write(to: URL(fileURLWithPath: node.seam))
    }

    /// The node's darknode.toml, as an operator would write it.
    static func writeConfiguration(for node: NodeFiles, root: String, policy: String, collateral: String,
                                   peers: [NodeFiles], admitted: [NodeFiles]) throws {
        func list(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        var enclave = "platform = \"\(node.platform)\"\n"
        if node.sample != .sgx { enclave += "provisioned-sealing-key = \"\(root)/\(node.name).sealing.key\"\n" }
        let text = """
            [enclave]
            \(enclave)policy = "\(policy)"
            collateral-dir = "\(collateral)"

            [mesh]
            listen = "127.0.0.1:\(node.port)"
            peers = \(list(peers.map { "127.0.0.1:\($0.port)" }))
            admit = \(list(admitted.map(\.identity)))
            reattestation-interval-ms = 1000

            [log]
            status-interval-ms = 300

            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: node.directory + "/darknode.toml"))
    }

    /// The samples' collateral as an operator's cache directory holds it (docs/attestation.md).
    static func collateralDirectory(in root: String) throws -> String {
        let directory = root + "/collateral"
        try FileManager.default.createDirectory(atPath: directory + "/intel", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/amd", withIntermediateDirectories: true)
        for (source, target) in [
            ("attestation/intel-tdx/tdx_quote_v4_collateral.json", "intel/tdx-sample.json"),
            ("attestation/intel-sgx/sgx_quote_v3_collateral.json", "intel/sgx-sample.json"),
            ("attestation/amd-sev-snp/milan_vcek_report_v2.vcek.der", "amd/milan-vcek.der"),
            ("attestation/amd-sev-snp/milan_vcek_report_v2_debug.vcek.der", "amd/milan-debug-vcek.der"),
        ] {
            try Data(try TestData.bytes(source)).write(to: URL(fileURLWithPath: directory + "/" + target))
        }
        return directory
    }

    /// policy.json: a release manifest (signed by a fresh release key) naming the good TDX sample's MRTD and the
    /// good SNP sample's MEASUREMENT, as their verified evidence reports them, and an SGX MRENCLAVE that is not the
    /// sample's; TCB floor ConfigurationAndSWHardeningNeeded (the samples' own levels).
    static func writePolicy(to path: String) throws {
        let time = try #require(ISO8601DateFormatter().date(from: appraisalTime))
        let tdx = try EvidenceVerifier().verify(
            try TestData.bytes(Sample.tdx.evidencePath), platform: .tdx,
            collateral: Collateral(intel: try IntelCollateral(json: try TestData.bytes("attestation/intel-tdx/tdx_quote_v4_collateral.json"))),
            at: time)
        let snp = try EvidenceVerifier().verify(
            try TestData.bytes(Sample.snp.evidencePath), platform: .sevSNP,
            collateral: Collateral(certificates: [try TestData.bytes("attestation/amd-sev-snp/milan_vcek_report_v2.vcek.der")]), at: time)
        let entries: [String: [[String: String]]] = [
            "tdx": [try ["mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3"].reduce(into: [String: String]()) {
                $0[$1] = Hex.encode(try #require(tdx.measurements[$1]))
            }],
            "sev-snp": [["measurement": Hex.encode(try #require(snp.measurements["measurement"]))]],
            "sgx": [["mrenclave": String(repeating: "ab", count: 32)]],
        ]
        let body: [String: Any] = ["format": 1, "releases": [["version": "test", "platforms": entries]]]
        let releaseKey = PrivateKey.generate()
        let signed = try SignedReleaseManifest(
            body: Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])), signatures: []).signed(by: releaseKey)
        let document: [String: Any] = [
            "minimumTCBStatus": "ConfigurationAndSWHardeningNeeded",
            "releaseManifest": try JSONSerialization.jsonObject(with: Data(signed.json)),
            "releaseKeys": [Hex.encode(releaseKey.publicKey.compressed)], "releaseThreshold": 1,
            // No real AMD CRL for the Milan sample's ARK is in the test data: the CRL is optional for this mesh.
            "snp": ["requireCRL": false],
        ]
        try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
}
