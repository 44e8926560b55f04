import Attestation
import Foundation
import Secp256k1
import Testing
import TestSupport

/// Goal: the release workflow of docs/releases.md works end to end with nothing but the shipped tool, on the
/// simulated platform: measure the build → write the manifest → 2 of 3 release keys sign it → a node's policy
/// admits that build's evidence and refuses another build's; an upgrade admits the new build before the old one is
/// retired. Method: the same commands the document shows, run as subprocesses of the built `darknode`; the
/// measurement is checked against SHA-256 of the executable file as this test reads it.
@Suite("Release workflow: measure, manifest signed 2-of-3, node policy (subprocess)", .dedicatedThreadForBlockingWaits)
struct ReleaseWorkflowCLITests {
    typealias CLI = AttestCLITests

    @Test func aManifestSignedTwoOfThreeAdmitsTheMeasuredBuildAndRefusesAnother() throws {
        let work = try CLI.Workspace()
        let release = CLI.darknode

        // 1. Measure: `darknode version --json` reports the SHA-256 of its own executable.
        let measured = try Self.json(try Self.darknode(["version", "--json"]))
        let measurement = try #require(measured["executableSHA256"] as? String)
        #expect(measurement == (try CLI.sha256(ofFile: release.path)))
        #expect((measured["gitCommit"] as? String)?.isEmpty == false)

        // 2. Three release-key holders each make a key; only the public keys are shared.
        let publicKeys = try (1...3).map { index in
            let made = try Self.darknode(["attest", "manifest", "keygen", "--out", work.file("release-\(index).key")])
            return made.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(Set(publicKeys).count == 3)
        #expect(publicKeys.allSatisfy { Hex.decode($0)?.count == 33 })
        let mode = (try FileManager.default.attributesOfItem(atPath: work.file("release-1.key"))[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let overwrite = try CLI.run(release, ["attest", "manifest", "keygen", "--out", work.file("release-1.key")])
        #expect(overwrite.status != 0)

        // 3. The manifest body lists the measured build as release 1.0.0.
        _ = try Self.darknode([
            "attest", "manifest", "add-release", "--release", "1.0.0", "--entry", "simulated:measurement=\(measurement)",
            "--output", work.file("body-1.0.0.json"),
        ])

        // 4. Two of the three holders sign, one after the other; one signature is not enough.
        _ = try Self.darknode(["attest", "manifest", "sign", work.file("body-1.0.0.json"), "--key", work.file("release-1.key"), "--output", work.file("manifest-partial.json")])
        let oneOfThree = try Self.verifyManifest(work.file("manifest-partial.json"), keys: publicKeys, threshold: 2)
        #expect(oneOfThree.status == 1)
        #expect((oneOfThree.json["reasons"] as? [String]) == ["release manifest has 1 valid release-key signatures, needs 2"])
        _ = try Self.darknode(["attest", "manifest", "sign", work.file("manifest-partial.json"), "--key", work.file("release-3.key"), "--output", work.file("manifest-1.0.0.json")])
        let twoOfThree = try Self.verifyManifest(work.file("manifest-1.0.0.json"), keys: publicKeys, threshold: 2)
        #expect(twoOfThree.status == 0)
        #expect(twoOfThree.json["verdict"] as? String == "valid")
        #expect(Set(twoOfThree.json["signers"] as? [String] ?? []) == [publicKeys[0], publicKeys[2]])

        // 5. A node's policy holds the published manifest and the release keys with their threshold.
        let policy = try Self.nodePolicy(work, name: "policy-1.0.0.json", manifest: work.file("manifest-1.0.0.json"), keys: publicKeys)

        // The measured build's node is admitted; a different binary's node is refused, with the check's reason.
        let official = try work.initializedNode(named: "official")
        let officialShown = try official.show(nonce: "01", evidenceFile: work.file("official.bin"))
        #expect(officialShown["measurement"] as? String == measurement)
        let accepted = try work.verify(work.file("official.bin"), policy: policy)
        #expect(accepted.status == 0)
        #expect(accepted.json["verdict"] as? String == "accepted")

        let other = try Self.differentBinary(work, name: "darknode-other")
        let otherNode = try work.initializedNode(named: "other", executable: URL(fileURLWithPath: other))
        let otherShown = try otherNode.show(nonce: "01", evidenceFile: work.file("other.bin"))
        let otherMeasurement = try #require(otherShown["measurement"] as? String)
        #expect(otherMeasurement == (try CLI.sha256(ofFile: other)))
        let refused = try work.verify(work.file("other.bin"), policy: policy)
        #expect(refused.status == 1)
        #expect(
            refused.json["reasons"] as? [String]
                == ["MeasurementPolicy: simulated measurement measurement=\(otherMeasurement) is not in any release of the manifest"])

        // A manifest signed by only one key does not even load as a policy.
        let weak = try Self.nodePolicy(work, name: "policy-weak.json", manifest: work.file("manifest-partial.json"), keys: publicKeys)
        let weakResult = try work.verify(work.file("official.bin"), policy: weak)
        #expect(weakResult.status == 1)
        #expect((weakResult.json["reasons"] as? [String] ?? []).contains { $0.contains("needs 2") })
    }

    @Test func anUpgradeAdmitsTheNewBuildBeforeTheOldOneIsRetired() throws {
        let work = try CLI.Workspace()
        let oldMeasurement = try CLI.sha256(ofFile: CLI.darknode.path)
        let newBinary = try Self.differentBinary(work, name: "darknode-1.1.0")
        let newMeasurement = try CLI.sha256(ofFile: newBinary)
        let publicKeys = try (1...3).map { index in
            try Self.darknode(["attest", "manifest", "keygen", "--out", work.file("k\(index).key")]).standardOutput
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func publish(_ body: String, as name: String) throws -> String {
            _ = try Self.darknode(["attest", "manifest", "sign", work.file(body), "--key", work.file("k1.key"), "--key", work.file("k2.key"), "--output", work.file(name)])
            return try Self.nodePolicy(work, name: "policy-\(name)", manifest: work.file(name), keys: publicKeys)
        }
        _ = try Self.darknode(["attest", "manifest", "add-release", "--release", "1.0.0", "--entry", "simulated:measurement=\(oldMeasurement)", "--output", work.file("v1.json")])
        // Step 1 of an upgrade: a manifest that adds 1.1.0 beside 1.0.0 (built from the published, signed one).
        _ = try Self.darknode(["attest", "manifest", "sign", work.file("v1.json"), "--key", work.file("k1.key"), "--key", work.file("k2.key"), "--output", work.file("signed-v1.json")])
        _ = try Self.darknode(["attest", "manifest", "add-release", "--to", work.file("signed-v1.json"), "--release", "1.1.0", "--entry", "simulated:measurement=\(newMeasurement)", "--output", work.file("v2.json")])
        let duplicate = try CLI.run(CLI.darknode, ["attest", "manifest", "add-release", "--to", work.file("v2.json"), "--release", "1.1.0", "--entry", "simulated:measurement=\(newMeasurement)"])
        #expect(duplicate.status != 0)
        #expect(duplicate.standardError.contains("duplicate release 1.1.0"))
        let both = try publish("v2.json", as: "manifest-v2.json")
        // Step 2, once every node runs 1.1.0: a manifest without 1.0.0.
        _ = try Self.darknode(["attest", "manifest", "retire-release", work.file("v2.json"), "--release", "1.0.0", "--output", work.file("v3.json")])
        let onlyNew = try publish("v3.json", as: "manifest-v3.json")

        let oldNode = try work.initializedNode(named: "old")
        _ = try oldNode.show(nonce: "02", evidenceFile: work.file("old.bin"))
        let newNode = try work.initializedNode(named: "new", executable: URL(fileURLWithPath: newBinary))
        _ = try newNode.show(nonce: "02", evidenceFile: work.file("new.bin"))

        #expect(try work.verify(work.file("old.bin"), policy: both).status == 0)
        #expect(try work.verify(work.file("new.bin"), policy: both).status == 0)
        #expect(try work.verify(work.file("new.bin"), policy: onlyNew).status == 0)
        let retired = try work.verify(work.file("old.bin"), policy: onlyNew)
        #expect(retired.status == 1)
        #expect((retired.json["reasons"] as? [String] ?? []).contains { $0.hasPrefix("MeasurementPolicy:") })
    }

    @Test func addReleaseRefusesMalformedEntries() throws {
        for (entry, message) in [
            ("enclave:measurement=00", "unknown platform enclave"),
            ("simulated:measurement=xyz", "is not NAME=HEX"),
            ("sgx:mrsigner=00", "mrenclave (required)"),
            ("simulated:measurement=00,measurement=01", "given twice"),
            ("tdx:mrtd=aa,rtmr0=00,rtmr1=01,rtmr2=02", "rtmr3 (pin it"),
            ("tdx:mrtd=aa,rtmr0=00,rtmr1=01,rtmr2=02,rtmr3=open:", "rtmr3 (open without a reason)"),
        ] {
            let result = try CLI.run(CLI.darknode, ["attest", "manifest", "add-release", "--release", "1.0.0", "--entry", entry])
            #expect(result.status != 0, "\(entry)")
            #expect(result.standardError.contains(message), "\(entry): \(result.standardError)")
        }
    }

    /// A TDX entry may leave an RTMR open when it says why; the reason is kept in the body.
    @Test func addReleaseTakesAnOpenRTMRWithItsReason() throws {
        let result = try Self.darknode(["attest", "manifest", "add-release", "--release", "1.0.0",
                                        "--entry", "tdx:mrtd=aa,rtmr0=00,rtmr1=01,rtmr2=02,rtmr3=open:no runtime extensions"])
        #expect(result.standardOutput.contains("open:no runtime extensions"), "\(result.standardOutput)")
    }

    // MARK: - Helpers

    /// Runs the built darknode and requires exit status 0.
    static func darknode(_ arguments: [String]) throws -> CLI.Output {
        let result = try CLI.run(CLI.darknode, arguments)
        guard result.status == 0 else {
            throw CLI.CLIFailure("darknode \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.standardError)")
        }
        return result
    }

    static func json(_ output: CLI.Output) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any] else {
            throw CLI.CLIFailure("no JSON object in \(output.standardOutput)")
        }
        return object
    }

    static func verifyManifest(_ path: String, keys: [String], threshold: Int) throws -> (status: Int32, json: [String: Any]) {
        let result = try CLI.run(CLI.darknode, ["attest", "manifest", "verify", path, "--threshold", "\(threshold)"] + keys.flatMap { ["--release-key", $0] })
        return (result.status, try json(result))
    }

    /// The policy a node is configured with: the published manifest, the three release keys, threshold 2; simulated
    /// evidence allowed only because this example runs on the simulated platform.
    static func nodePolicy(_ work: CLI.Workspace, name: String, manifest: String, keys: [String]) throws -> String {
        let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest)))
        return try work.policy(name, ["allowSimulation": true, "releaseManifest": envelope, "releaseKeys": keys, "releaseThreshold": 2])
    }

    /// Another build: the same program with bytes appended (an ELF file still runs), so another measurement.
    static func differentBinary(_ work: CLI.Workspace, name: String) throws -> String {
        let path = work.file(name)
        var image = try Data(contentsOf: CLI.darknode)
        image.append(contentsOf: Array("darknode test: \(name)".utf8))
        try image.write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }
}
