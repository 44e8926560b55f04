import Attestation
import Secp256k1

/// The authority type of simulated-platform evidence (CODE_IDENTITY). Only a policy with `allowSimulation`
/// accepts it.
public let simulatedAuthorityType = "Darknode Simulated"

/// Produces `SimulatedEvidence` signed by a simulated platform key (development and CI only).
public struct SimulatedEvidenceProducer: EvidenceProducer {
    public let measurement: [UInt8]
    let platformKey: PrivateKey

    public init(measurement: [UInt8], platformKey: PrivateKey) {
        self.measurement = measurement
        self.platformKey = platformKey
    }

    public var authorityType: String { simulatedAuthorityType }

    public func produceEvidence(reportData: [UInt8]) throws(AssertionError) -> [UInt8] {
        do {
            return try SimulatedEvidence.sign(measurement: measurement, reportData: reportData, platformKey: platformKey)
                .encoded
        } catch {
            throw .generationFailed("simulated evidence: \(error)")
        }
    }
}

/// Parses `SimulatedEvidence` and checks the platform signature.
public struct SimulatedEvidenceAppraiser: EvidenceAppraiser {
    public init() {}

    public var authorityType: String { simulatedAuthorityType }

    public func appraise(_ evidence: [UInt8]) throws(AssertionError) -> AppraisedEvidence {
        let parsed: SimulatedEvidence
        do { parsed = try SimulatedEvidence(bytes: evidence) } catch { throw .malformed("simulated evidence: \(error)") }
        guard parsed.isSignatureValid else { throw .evidenceSignatureInvalid("simulated platform signature") }
        return AppraisedEvidence(authorityType: simulatedAuthorityType, measurement: parsed.measurement,
                                 reportData: parsed.reportData, isSimulated: true, platformKey: parsed.platformKey,
                                 rawEvidence: evidence)
    }
}

/// Convenience names for the simulated authority.
public typealias SimulatedAssertionGenerator = BoundEvidenceAssertionGenerator<SimulatedEvidenceProducer>
public typealias SimulatedAssertionVerifier = BoundEvidenceAssertionVerifier<SimulatedEvidenceAppraiser>
