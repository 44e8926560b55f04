import Foundation
import Secp256k1
import Testing
import TestSupport

@testable import Attestation

/// Release manifests (k-of-m secp256k1 signatures over the exact body bytes) and the measurement policy.
@Suite(.dedicatedThread) struct ManifestAndPolicyTests {
    let keys = (1...3).map { try! PrivateKey(bytes: [UInt8](repeating: UInt8($0), count: 32)) }

    let body = Array("""
        {"format": 1, "releases": [{"version": "1.0.0", "platforms": {
          "sgx": [{"mrenclave": "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
                   "mrsigner": "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6"}],
          "sev-snp": [{"measurement": "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f"}]}}]}
        """.utf8)

    func signed(by signers: [PrivateKey]) throws -> SignedReleaseManifest {
        var manifest = SignedReleaseManifest(body: body, signatures: [])
        for key in signers { manifest = try manifest.signed(by: key) }
        return manifest
    }

    @Test func thresholdSignaturesVerifyAndRoundTrip() throws {
        let manifest = try signed(by: [keys[0], keys[2]])
        let reparsed = try SignedReleaseManifest(json: manifest.json)
        #expect(reparsed == manifest && reparsed.body == body)
        let verified = try reparsed.verify(releaseKeys: keys.map(\.publicKey), threshold: 2)
        #expect(verified.releases.map(\.version) == ["1.0.0"])
        #expect(throws: ReleaseManifestError.thresholdNotMet(valid: 2, required: 3)) { try reparsed.verify(releaseKeys: keys.map(\.publicKey), threshold: 3) }
        #expect(throws: ReleaseManifestError.invalidThreshold(threshold: 0, keys: 3)) { try reparsed.verify(releaseKeys: keys.map(\.publicKey), threshold: 0) }
    }

    @Test func tamperedUnknownAndDuplicateSignersAreRejected() throws {
        let manifest = try signed(by: [keys[0], keys[1]])
        var tamperedBody = body
        tamperedBody[tamperedBody.count - 3] = UInt8(ascii: " ")
        let tampered = SignedReleaseManifest(body: tamperedBody, signatures: manifest.signatures)
        #expect(throws: ReleaseManifestError.signatureInvalid(Hex.encode(keys[0].publicKey.compressed))) {
            try tampered.verify(releaseKeys: keys.map(\.publicKey), threshold: 1)
        }
        #expect(throws: ReleaseManifestError.unknownSigner(Hex.encode(keys[1].publicKey.compressed))) {
            try manifest.verify(releaseKeys: [keys[0].publicKey, keys[2].publicKey], threshold: 1)
        }
        let doubled = SignedReleaseManifest(body: body, signatures: [manifest.signatures[0], manifest.signatures[0]])
        #expect(throws: ReleaseManifestError.duplicateSigner(Hex.encode(keys[0].publicKey.compressed))) {
            try doubled.verify(releaseKeys: keys.map(\.publicKey), threshold: 2)
        }
    }

    @Test func malformedBodiesAreTypedErrors() throws {
        #expect(throws: ReleaseManifestError.unsupportedFormat(2)) { try ReleaseManifest(body: Array(#"{"format":2,"releases":[]}"#.utf8)) }
        #expect(throws: ReleaseManifestError.unknownPlatform("sgx2")) {
            try ReleaseManifest(body: Array(#"{"format":1,"releases":[{"version":"1","platforms":{"sgx2":[]}}]}"#.utf8))
        }
        #expect(throws: ReleaseManifestError.invalidMeasurement(release: "1", platform: "tdx", field: "mrtd (required)")) {
            try ReleaseManifest(body: Array(#"{"format":1,"releases":[{"version":"1","platforms":{"tdx":[{"rtmr0":"00"}]}}]}"#.utf8))
        }
        // A TDX entry that pins MRTD but says nothing about an RTMR would admit any kernel on that firmware.
        #expect(throws: ReleaseManifestError.invalidMeasurement(release: "1", platform: "tdx", field: "rtmr3 (pin it, or write \"open: <reason>\")")) {
            try ReleaseManifest(body: Array(#"{"format":1,"releases":[{"version":"1","platforms":{"tdx":[{"mrtd":"aa","rtmr0":"00","rtmr1":"01","rtmr2":"02"}]}}]}"#.utf8))
        }
        #expect(throws: ReleaseManifestError.invalidMeasurement(release: "1", platform: "tdx", field: "rtmr3 (open without a reason)")) {
            try ReleaseManifest(body: Array(#"{"format":1,"releases":[{"version":"1","platforms":{"tdx":[{"mrtd":"aa","rtmr0":"00","rtmr1":"01","rtmr2":"02","rtmr3":"open: "}]}}]}"#.utf8))
        }
        #expect(throws: ReleaseManifestError.self) { try ReleaseManifest(body: Array("not json".utf8)) }
        #expect(throws: ReleaseManifestError.self) { try SignedReleaseManifest(json: Array(#"{"body": 5}"#.utf8)) }
    }

    @Test func measurementPolicyAcceptsOnlyListedReleases() throws {
        let manifest = try signed(by: [keys[0], keys[1]]).verify(releaseKeys: keys.map(\.publicKey), threshold: 2)
        let verifier = EvidenceVerifier()
        let sgx = try verifier.verify(Samples.sgxQuote(), collateral: Collateral(intel: Samples.sgxCollateral()), at: Samples.sgxTime)
        // No real AMD CRL is in the test data (AMDRevocationTests use a synthetic one), so the CRL is not required here.
        let policy = AttestationPolicy(manifest: manifest, minimumTCB: .configurationAndSWHardeningNeeded, requireBinding: false,
                                       snp: SNPPolicy(requireCRL: false))
        #expect(policy.evaluate(sgx, at: Samples.sgxTime) == .accepted)
        #expect(manifest.release(matching: sgx)?.version == "1.0.0")
        let snp = try verifier.verify(Samples.snpReport(), collateral: Collateral(certificates: [Samples.snpVCEK()]), at: Samples.snpTime)
        #expect(policy.evaluate(snp, at: Samples.snpTime) == .accepted)
        let tdx = try verifier.verify(Samples.tdxQuote(), collateral: Collateral(intel: Samples.tdxCollateral()), at: Samples.tdxTime)
        let decision = policy.evaluate(tdx, at: Samples.tdxTime)
        #expect(decision.reasons == ["MeasurementPolicy: tdx measurement mrtd=91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7 is not in any release of the manifest"])
    }

    /// TDX entries pin RTMR0-3 or leave one open with a reason; an open register is not compared, a pinned one is.
    @Test func tdxEntriesPinOrOpenEveryRTMR() throws {
        let tdx = try EvidenceVerifier().verify(Samples.tdxQuote(), collateral: Collateral(intel: Samples.tdxCollateral()), at: Samples.tdxTime)
        func entry(_ rtmr3: String) -> [UInt8] {
            let m = tdx.measurements
            return Array("""
                {"format":1,"releases":[{"version":"1","platforms":{"tdx":[{"mrtd":"\(m["mrtd"]!.hexString)",
                 "rtmr0":"\(m["rtmr0"]!.hexString)","rtmr1":"\(m["rtmr1"]!.hexString)","rtmr2":"\(m["rtmr2"]!.hexString)",
                 "rtmr3":"\(rtmr3)"}]}}]}
                """.utf8)
        }
        #expect(try ReleaseManifest(body: entry(tdx.measurements["rtmr3"]!.hexString)).release(matching: tdx)?.version == "1")
        #expect(try ReleaseManifest(body: entry("open: this image extends no runtime register")).release(matching: tdx)?.version == "1")
        #expect(try ReleaseManifest(body: entry(String(repeating: "11", count: 48))).release(matching: tdx) == nil)
    }

    @Test func freshnessPolicy() throws {
        let nitro = try EvidenceVerifier().verify(Samples.nitro(), at: Samples.nitroTime)
        let policy = AttestationPolicy(checks: [FreshnessPolicy(maximumAge: 600)])
        #expect(policy.evaluate(nitro, at: Samples.nitroTime.addingTimeInterval(300)) == .accepted)
        #expect(policy.evaluate(nitro, at: Samples.nitroTime.addingTimeInterval(3600)).reasons.first?.hasPrefix("FreshnessPolicy: evidence produced") == true)
    }

    @Test func policyDocument() throws {
        let manifest = try signed(by: [keys[0], keys[1]])
        let envelope = try JSONSerialization.jsonObject(with: Data(manifest.json))
        let identity = keys[2].publicKey
        let object: [String: Any] = [
            "minimumTCBStatus": "UpToDate",
            "tcbGrace": [["status": "ConfigurationAndSWHardeningNeeded", "until": "2025-12-31T00:00:00Z"]],
            "releaseManifest": envelope, "releaseKeys": keys.map { Hex.encode($0.publicKey.compressed) }, "releaseThreshold": 2,
            "reportDataBinding": ["identityKey": Hex.encode(identity.compressed), "nonce": "00ff"],
        ]
        let document = try PolicyDocument(json: Array(try JSONSerialization.data(withJSONObject: object)))
        #expect(document.binding == ReportDataBinding(identityKey: identity, nonce: [0, 0xff]))
        let sgx = try EvidenceVerifier().verify(Samples.sgxQuote(), collateral: Collateral(intel: Samples.sgxCollateral()), at: Samples.sgxTime)
        // Measurement and TCB (by grace) pass; the sample's report data is not our binding.
        #expect(document.policy.evaluate(sgx, binding: document.binding, at: Samples.sgxTime).reasons.map { $0.prefix(23) } == ["ReportDataBindingPolicy"])
        #expect(throws: PolicyDocumentError.invalid("unknown key allowDebugg")) { try PolicyDocument(json: Array(#"{"allowDebugg": true}"#.utf8)) }
        #expect(throws: PolicyDocumentError.manifest(.thresholdNotMet(valid: 2, required: 3))) {
            var o = object
            o["releaseThreshold"] = 3
            return try PolicyDocument(json: Array(try JSONSerialization.data(withJSONObject: o)))
        }
    }

    @Test func reportDataBindingBytes() throws {
        let key = try PrivateKey(bytes: [UInt8](repeating: 1, count: 32)).publicKey
        let binding = ReportDataBinding(identityKey: key, nonce: [1, 2, 3])
        var preimage = Array("darknode/attestation/report-data/v1".utf8) + [0]
        preimage += key.compressed + [3, 1, 2, 3]
        #expect(binding.reportData == Array(SHA512Digest(preimage)))
        #expect(binding.reportData.count == 64 && binding.reportData(size: 32) == Array(binding.reportData.prefix(32)))
    }
}

import Crypto
private func SHA512Digest(_ bytes: [UInt8]) -> [UInt8] { Array(SHA512.hash(data: bytes)) }
