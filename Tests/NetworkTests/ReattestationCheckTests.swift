import Enclave
import Foundation
import Logging
import MeshTestKit
import Network
import Secp256k1
import SecureChannel
import Testing

/// The checker that judges a peer's answer to a re-attestation challenge, against real simulated evidence.
@Suite struct ReattestationCheckTests {
    let machine = FileManager.default.temporaryDirectory.appendingPathComponent("darknode-reattest-\(UUID().uuidString)")

    func platform(measurement: UInt8 = 0x11) throws -> SimulatedPlatform {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try SimulatedPlatform(
            machineDirectory: machine.path, measurement: [UInt8](repeating: measurement, count: 32), logger: logger)
    }

    func answer(_ platform: SimulatedPlatform, key: PrivateKey, nonce: [UInt8]) throws -> (platform: String, evidence: [UInt8]) {
        var configuration = MeshConfiguration(
            identity: key, authenticator: UnattestedTestAuthenticator(identity: key, enabledForTesting: true), admitted: [])
        PlatformReattestation.install(
            in: &configuration, platform: platform,
            policy: MeasurementAllowListPolicy(allowedMeasurements: [], allowSimulation: true))
        let responder = try #require(configuration.attestationResponder)
        return try responder(nonce)
    }

    @Test func aFreshAnswerBindingThePeerAndTheNoncePassesAndAnythingElseFails() throws {
        defer { try? FileManager.default.removeItem(at: machine) }
        let simulated = try platform()
        let key = PrivateKey.generate()
        let peer = PeerID(key.publicKey)
        let nonce = [UInt8](repeating: 7, count: 32)
        let allowing = MeasurementAllowListPolicy(allowedMeasurements: [simulated.measurement], allowSimulation: true)
        let (kind, evidence) = try answer(simulated, key: key, nonce: nonce)
        #expect(kind == "simulated")
        try PlatformReattestation.check(peer: peer, platform: kind, evidence: evidence, nonce: nonce, policy: allowing)

        // Replayed for another challenge, or claimed by another identity: the report data does not match.
        #expect(throws: PlatformReattestation.Failure.reportDataMismatch) {
            try PlatformReattestation.check(
                peer: peer, platform: kind, evidence: evidence, nonce: [UInt8](repeating: 8, count: 32), policy: allowing)
        }
        #expect(throws: PlatformReattestation.Failure.reportDataMismatch) {
            try PlatformReattestation.check(
                peer: PeerID(PrivateKey.generate().publicKey), platform: kind, evidence: evidence, nonce: nonce, policy: allowing)
        }
        // A flipped byte breaks the platform signature; an unknown platform has no appraiser.
        var tampered = evidence
        tampered[tampered.count / 2] ^= 1
        #expect(throws: PlatformReattestation.Failure.self) {
            try PlatformReattestation.check(peer: peer, platform: kind, evidence: tampered, nonce: nonce, policy: allowing)
        }
        #expect(throws: PlatformReattestation.Failure.unsupportedPlatform("tdx")) {
            try PlatformReattestation.check(peer: peer, platform: "tdx", evidence: evidence, nonce: nonce, policy: allowing)
        }
        // Authentic and fresh, but the policy has moved on (a new release, or simulation no longer allowed).
        for policy in [
            MeasurementAllowListPolicy(allowedMeasurements: [[UInt8](repeating: 0x22, count: 32)], allowSimulation: true),
            MeasurementAllowListPolicy(allowedMeasurements: [simulated.measurement], allowSimulation: false),
        ] {
            var rejection: PlatformReattestation.Failure?
            do throws(PlatformReattestation.Failure) {
                try PlatformReattestation.check(peer: peer, platform: kind, evidence: evidence, nonce: nonce, policy: policy)
            } catch {
                rejection = error
            }
            guard case .policyRejected = rejection else {
                Issue.record("expected a policy rejection, got \(String(describing: rejection))")
                continue
            }
        }
    }
}
