import Attestation
import Enclave
import Foundation
import NIOPosix
import Network
import Secp256k1
import SecureChannel
import TestSupport
import Testing

/// Goal: peers are admitted only on verified hardware evidence (issue 17). Method: nodes whose enclave platforms
/// are fake configfs-tsm and Gramine trees serving the real TDX, SEV-SNP and SGX samples of Tests/Fixtures run the
/// production EKEP authenticator and re-attestation with the hardware appraiser, a collateral cache directory and
/// a policy file. The samples' report data is fixed, so the handshake and challenge binding is the test seam
/// `SampleReportData` for the nodes it lists (see its documentation); nodes it does not list get the production
/// binding, which a real sample cannot meet.
@Suite("Hardware appraisal in EKEP and re-attestation")
struct HardwareAppraisalTests {
    /// Inside every sample's validity window (Intel collateral, the Milan VCEKs).
    static let time = Date(timeIntervalSince1970: 1_751_328_000)  // 2025-07-01T00:00:00Z

    /// Shared and never shut down: a mesh's maintenance redial can still be in flight when a test stops its
    /// meshes, and shutting the loops down under it would leak its promise (a race in `Mesh`, not in appraisal).
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-hw-appraisal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// A policy file naming the good samples' measurements, as a node's configuration would.
    func policyFile(_ name: String = "policy.json", minimumTCB: String = "UpToDate", snp: [String: Any]? = nil,
                    edit: (inout [String: [[String: String]]]) -> Void = { _ in }) throws -> String {
        let cache = try CollateralDirectory.load(try HardwareSample.collateralDirectory(in: root))
        var entries = try sampleManifestEntries(collateral: cache, at: Self.time)
        edit(&entries)
        let path = root + "/" + name
        try writePolicy(to: path, manifestEntries: entries, minimumTCB: minimumTCB, snp: snp)
        return path
    }

    struct Node {
        let key: PrivateKey
        let sample: HardwareSample
        let mesh: Mesh
        let log: EventLog
    }

    /// Starts a node serving `sample`, judging peers by `policyPath` with the collateral directory, through the
    /// same `NodeTrust` path `darknode run` uses.
    func start(_ sample: HardwareSample, key: PrivateKey, policyPath: String, expectation: SampleReportData,
               admitted: Set<PeerID>, group: MultiThreadedEventLoopGroup) async throws -> Node {
        let platform = try sample.platform(in: root)
        let appraisal = try #require(try NodeTrust.appraisal(
            platform: platform.kind, policyPath: policyPath, collateralDirectory: try HardwareSample.collateralDirectory(in: root),
            clock: { Self.time }, expectation: expectation))
        var configuration = try MeshConfiguration.attested(identity: key, platform: platform, appraisal: appraisal, admitted: admitted)
        configuration.limits.reattestationInterval = .milliseconds(100)
        configuration.limits.reattestationTimeout = .seconds(30)
        let mesh = Mesh(configuration: configuration, group: group)
        let log = EventLog(mesh)
        try await mesh.start()
        return Node(key: key, sample: sample, mesh: mesh, log: log)
    }

    /// Four nodes (TDX, SEV-SNP, TDX, SEV-SNP) form a full mesh: every peer is admitted through the hardware
    /// appraiser and then passes re-attestations. Then nodes serving a debug report, a wrong measurement and an
    /// unbound key dial in and are refused, each with its reason in the refusing node's events.
    @Test func fourNodeMeshAdmitsHardwarePeersAndRefusesTheRest() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let group = Self.group
        let samples: [HardwareSample] = [.tdx, .snp, .tdx, .snp]
        let keys = samples.map { _ in PrivateKey.generate() }
        // Outsiders: a debug SNP report, the SGX sample (a measurement the manifest below leaves out), and a TDX
        // node whose key the seam does not list (production binding).
        let debugKey = PrivateKey.generate(), sgxKey = PrivateKey.generate(), unboundKey = PrivateKey.generate()
        var bound: [PublicKey: [UInt8]] = [:]
        for (key, sample) in zip(keys, samples) { bound[key.publicKey] = try sample.reportData() }
        bound[debugKey.publicKey] = try HardwareSample.snpDebug.reportData()
        bound[sgxKey.publicKey] = try HardwareSample.sgx.reportData()
        let expectation = SampleReportData(samples: bound)
        let policy = try policyFile(minimumTCB: "ConfigurationAndSWHardeningNeeded") { $0["sgx"] = [["mrenclave": String(repeating: "ab", count: 32)]] }
        let everyone = Set((keys + [debugKey, sgxKey, unboundKey]).map { PeerID($0.publicKey) })

        var nodes: [Node] = []
        for (key, sample) in zip(keys, samples) {
            nodes.append(try await start(sample, key: key, policyPath: policy, expectation: expectation, admitted: everyone, group: group))
        }
        for i in nodes.indices {
            for j in nodes.indices where i < j {
                let peer = try await nodes[i].mesh.connect(host: "127.0.0.1", port: nodes[j].mesh.listenPort)
                #expect(peer.platform == HardwareAuthority.authorityType(for: nodes[j].sample.attestationPlatform))
            }
        }
        #expect(await eventually { nodes.allSatisfy { $0.mesh.connectedPeers.count == 3 } }, "every node connected to the three others")
        for node in nodes {
            let platforms = Set(node.mesh.connectedPeers.map(\.platform))
            #expect(platforms.isSubset(of: ["Darknode TDX", "Darknode SEV-SNP"]), "\(platforms)")
        }
        #expect(await eventually { nodes.allSatisfy { $0.mesh.statistics.reattestationsPassed >= 6 } },
                "every node re-attested its three peers twice through the hardware appraiser")
        #expect(nodes.allSatisfy { $0.log.evictions.isEmpty && $0.log.refusals.isEmpty })

        let target = nodes[0]
        for (key, sample, reason) in [
            (debugKey, HardwareSample.snpDebug, "DebugForbiddenPolicy"), (sgxKey, .sgx, "MeasurementPolicy"),
            (unboundKey, .tdx, "bindingMismatch"),
        ] {
            let outsider = try await start(sample, key: key, policyPath: policy, expectation: expectation, admitted: everyone, group: group)
            await #expect(throws: (any Error).self, "\(sample) is refused") {
                _ = try await outsider.mesh.connect(host: "127.0.0.1", port: target.mesh.listenPort)
            }
            #expect(await eventually { target.log.refusals.contains { $0.contains(reason) } },
                    "the refusing node's events name \(reason): \(target.log.refusals)")
            await outsider.mesh.stop()
        }
        #expect(target.mesh.connectedPeers.count == 3)
        for node in nodes { await node.mesh.stop() }
    }

    /// One handshake of `sample`'s node into a TDX node judging by `policy`; returns both sides' refusals.
    func refusals(dialling sample: HardwareSample, policy: String, bindKey: Bool = true) async throws -> [String] {
        let group = Self.group
        let listenerKey = PrivateKey.generate(), dialKey = PrivateKey.generate()
        var bound = [listenerKey.publicKey: try HardwareSample.tdx.reportData()]
        if bindKey { bound[dialKey.publicKey] = try sample.reportData() }
        let expectation = SampleReportData(samples: bound)
        let admitted = Set([listenerKey, dialKey].map { PeerID($0.publicKey) })
        let listener = try await start(.tdx, key: listenerKey, policyPath: policy, expectation: expectation, admitted: admitted, group: group)
        let dialer = try await start(sample, key: dialKey, policyPath: policy, expectation: expectation, admitted: admitted, group: group)
        var connected = false
        do {
            _ = try await dialer.mesh.connect(host: "127.0.0.1", port: listener.mesh.listenPort)
            connected = true
        } catch {}
        _ = await eventually(30) { !listener.log.refusals.isEmpty || connected }
        let result = listener.log.refusals + dialer.log.refusals + (connected ? ["connected"] : [])
        await dialer.mesh.stop()
        await listener.mesh.stop()
        return result
    }

    @Test func theSamePolicyAdmitsTheGoodSamples() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let policy = try policyFile(minimumTCB: "ConfigurationAndSWHardeningNeeded")
        for sample in [HardwareSample.tdx, .snp, .sgx] {
            let result = try await refusals(dialling: sample, policy: policy)
            #expect(result == ["connected"], "\(sample): \(result)")
        }
    }

    @Test func aWrongMeasurementIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let policy = try policyFile { $0["sev-snp"] = [["measurement": String(repeating: "00", count: 48)]] }
        let result = try await refusals(dialling: .snp, policy: policy)
        #expect(result.contains { $0.contains("MeasurementPolicy") }, "\(result)")
        #expect(!result.contains("connected"))
    }

    @Test func aDebugReportIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let policy = try policyFile()
        let result = try await refusals(dialling: .snpDebug, policy: policy)
        #expect(result.contains { $0.contains("DebugForbiddenPolicy") }, "\(result)")
        #expect(!result.contains("connected"))
    }

    /// Intel: the SGX sample's TCB level (ConfigurationAndSWHardeningNeeded) under an UpToDate floor. AMD: the
    /// SNP sample under a reported-TCB floor one microcode step above its own.
    @Test func aTCBBelowTheFloorIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let intel = try await refusals(dialling: .sgx, policy: try policyFile("intel.json", minimumTCB: "UpToDate"))
        #expect(intel.contains { $0.contains("TCBLevelPolicy") }, "\(intel)")
        #expect(!intel.contains("connected"))

        let report = try SNPReport(bytes: try TestData.bytes(HardwareSample.snp.evidencePath))
        let tcb = report.reportedTCB
        let floor: [String: Any] = ["minimumReportedTCB": [
            "bootloader": Int(tcb.bootloader), "tee": Int(tcb.tee), "snp": Int(tcb.snp), "microcode": Int(tcb.microcode) + 1,
        ]]
        let amd = try await refusals(dialling: .snp, policy: try policyFile("amd.json", snp: floor))
        #expect(amd.contains { $0.contains("SNPPolicy") }, "\(amd)")
        #expect(!amd.contains("connected"))
    }

    /// Without the seam a real sample cannot carry the binding of a fresh handshake: the production binding
    /// refuses it before any policy runs.
    @Test func aKeyNotBoundInReportDataIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let policy = try policyFile()
        let result = try await refusals(dialling: .snp, policy: policy, bindKey: false)
        #expect(result.contains { $0.contains("bindingMismatch") }, "\(result)")
        #expect(!result.contains("connected"))
    }

    /// Re-attestation through the hardware appraiser: the answer to challenge N1 passes; the same evidence offered
    /// for a later challenge (a stale nonce), claimed by another identity, or judged with the production binding,
    /// fails on the report data; a debug report fails the policy.
    @Test func reattestationChecksTheNonceKeyAndPolicy() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let policy = try NodeTrust.nodePolicy(path: try policyFile())
        let cache = try CollateralDirectory.load(try HardwareSample.collateralDirectory(in: root))
        let peerKey = PrivateKey.generate()
        let peer = PeerID(peerKey.publicKey)
        let n1 = [UInt8](repeating: 1, count: 32), n2 = [UInt8](repeating: 2, count: 32)
        for sample in [HardwareSample.tdx, .snp] {
            let evidence = try TestData.bytes(sample.evidencePath)
            let seam = SampleReportData(samples: [peerKey.publicKey: try sample.reportData()], nonce: n1)
            let appraisal = PeerAppraisal.hardware(policy: policy, collateral: cache, clock: { Self.time }, expectation: seam)
            let name = sample == .tdx ? "tdx" : "sev-snp"
            try PlatformReattestation.check(peer: peer, platform: name, evidence: evidence, nonce: n1, appraisal: appraisal)
            #expect(throws: PlatformReattestation.Failure.reportDataMismatch, "stale nonce") {
                try PlatformReattestation.check(peer: peer, platform: name, evidence: evidence, nonce: n2, appraisal: appraisal)
            }
            #expect(throws: PlatformReattestation.Failure.reportDataMismatch, "another identity") {
                try PlatformReattestation.check(
                    peer: PeerID(PrivateKey.generate().publicKey), platform: name, evidence: evidence, nonce: n1, appraisal: appraisal)
            }
            let production = PeerAppraisal.hardware(policy: policy, collateral: cache, clock: { Self.time })
            #expect(throws: PlatformReattestation.Failure.reportDataMismatch, "production binding") {
                try PlatformReattestation.check(peer: peer, platform: name, evidence: evidence, nonce: n1, appraisal: production)
            }
        }
        let debug = try TestData.bytes(HardwareSample.snpDebug.evidencePath)
        let seam = SampleReportData(samples: [peerKey.publicKey: try HardwareSample.snpDebug.reportData()], nonce: n1)
        let appraisal = PeerAppraisal.hardware(policy: policy, collateral: cache, clock: { Self.time }, expectation: seam)
        do {
            try PlatformReattestation.check(peer: peer, platform: "sev-snp", evidence: debug, nonce: n1, appraisal: appraisal)
            Issue.record("a debug report passed re-attestation")
        } catch {
            guard case .policyRejected(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("DebugForbiddenPolicy"), "\(reason)")
        }
    }

    /// Nitro has no enclave platform here, so no node produces it; its appraiser still verifies the real documents
    /// (chain to the pinned AWS root, ES384) and the policy judges them: a manifest without its PCRs refuses the
    /// production document, and the debug document (PCR0-2 zero) is refused as debug.
    @Test func nitroDocumentsGoThroughTheSameAppraisalAndPolicy() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let policy = try NodeTrust.nodePolicy(path: try policyFile())
        for (file, time, reason) in [
            ("attestation/aws-nitro/nitro_attestation.b64", "2024-09-07T14:37:39Z", "MeasurementPolicy"),
            ("attestation/aws-nitro/nitro_attestation_debug.b64", "2024-09-07T14:38:06Z", "DebugForbiddenPolicy"),
        ] {
            let text = String(decoding: try TestData.bytes(file), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let document = try #require(Data(base64Encoded: text))
            let at = try Date(time, strategy: .iso8601)
            let appraiser = HardwareEvidenceAppraiser(platform: .nitro, collateral: nil, clock: { at })
            let appraised = try appraiser.appraise(Array(document))
            #expect(appraised.authorityType == "Darknode Nitro" && appraised.verified?.platform == .nitro)
            let decision = AttestationPeerPolicy(policy: policy, clock: { at }).evaluate(
                evidence: appraised, identityKey: PrivateKey.generate().publicKey, expectedReportData: appraised.reportData)
            guard case .rejected(let why) = decision else { Issue.record("\(file) accepted"); continue }
            #expect(why.contains(reason), "\(why)")
        }
    }

    /// Collateral is verified once per file and validity window, then reused for every quote.
    @Test func collateralIsVerifiedOnceAndReused() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try CollateralDirectory.load(try HardwareSample.collateralDirectory(in: root))
        let tdx = try Evidence.parse(try TestData.bytes(HardwareSample.tdx.evidencePath), platform: .tdx)
        for offset in 0..<5 {
            let time = Self.time.addingTimeInterval(TimeInterval(offset * 60))
            _ = try EvidenceVerifier().verify(tdx, collateral: try cache.collateral(for: tdx, at: time), at: time)
        }
        #expect(cache.intelPreparationCount == 1)
        let sgx = try Evidence.parse(try TestData.bytes(HardwareSample.sgx.evidencePath), platform: .sgx)
        _ = try EvidenceVerifier().verify(sgx, collateral: try cache.collateral(for: sgx, at: Self.time), at: Self.time)
        #expect(cache.intelPreparationCount == 2)
        // Long after the files' windows: re-verified at that time, which fails until the operator refreshes them.
        let late = Self.time.addingTimeInterval(400 * 86_400)
        #expect(throws: AttestationError.self) { try cache.collateral(for: tdx, at: late) }
    }

    /// A hardware node without a policy does not start; a simulated one keeps its development default.
    @Test func aHardwareNodeNeedsAPolicy() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        for kind in [EnclavePlatformKind.tdx, .sevSNP, .sgxGramine] {
            #expect(throws: NodeTrust.Failure.policyRequired(platform: kind.rawValue)) {
                try NodeTrust.appraisal(platform: kind, policyPath: nil, collateralDirectory: nil)
            }
        }
        #expect(try NodeTrust.appraisal(platform: .simulated, policyPath: nil, collateralDirectory: nil) == nil)
        let pinned = root + "/pinned.json"
        let key = Hex.encode(PrivateKey.generate().publicKey.compressed)
        try Data(#"{"reportDataBinding": {"identityKey": "\#(key)", "nonce": "00"}}"#.utf8).write(to: URL(fileURLWithPath: pinned))
        #expect(throws: NodeTrust.Failure.policyPinsBinding(path: pinned)) { try NodeTrust.nodePolicy(path: pinned) }
    }
}
