import Foundation

/// Checks that evidence is authentic: its signatures, its certificate chain to the pinned vendor root, and (for
/// Intel, when given) its collateral. It does not decide whether the evidence is *acceptable*: that is
/// `AttestationPolicy`'s job, which takes the `VerifiedEvidence` this returns.
///
/// Pure: it reads only the bytes passed in, and time is a parameter.
public struct EvidenceVerifier: Sendable {
    public var trustAnchors: TrustAnchors

    public init(trustAnchors: TrustAnchors = .production) {
        self.trustAnchors = trustAnchors
    }

    /// Parses and verifies `evidence`. `platform` nil means "detect from the bytes".
    public func verify(_ evidence: some Collection<UInt8>, platform: AttestationPlatform? = nil, collateral: Collateral = Collateral(),
                       at time: Date) throws(AttestationError) -> VerifiedEvidence {
        let parsed: Evidence
        do { parsed = try Evidence.parse(evidence, platform: platform) } catch { throw .parse(error) }
        return try verify(parsed, collateral: collateral, at: time)
    }

    /// `verify(_:platform:collateral:at:)` with the time as Unix seconds.
    public func verify(_ evidence: some Collection<UInt8>, platform: AttestationPlatform? = nil, collateral: Collateral = Collateral(),
                       atUnixSeconds seconds: UInt64) throws(AttestationError) -> VerifiedEvidence {
        try verify(evidence, platform: platform, collateral: collateral, at: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// Verifies already-parsed evidence.
    public func verify(_ evidence: Evidence, collateral: Collateral = Collateral(), at time: Date) throws(AttestationError) -> VerifiedEvidence {
        switch evidence {
        case .sgx(let quote), .tdx(let quote):
            let intel = IntelQuoteVerifier(rootDER: trustAnchors.intelRootCA)
            if let prepared = collateral.preparedIntel { return try intel.verify(quote, prepared: prepared, at: time) }
            return try intel.verify(quote, collateral: collateral.intel, at: time)
        case .sevSNP(let report):
            return try SNPVerifier(amdCertificates: trustAnchors.amdCertificates).verify(report, certificates: collateral.certificates,
                                                                                           crls: collateral.amdCRLs, at: time)
        case .nitro(let document):
            return try NitroVerifier(rootDER: trustAnchors.nitroRoot).verify(document, at: time)
        case .simulated(let simulated):
            return try simulated.verified(at: time)
        }
    }
}

extension SimulatedEvidence {
    /// Checks the platform-key signature. Simulated evidence proves nothing about hardware; policies reject it
    /// unless simulation is explicitly allowed.
    public func verified(at time: Date) throws(AttestationError) -> VerifiedEvidence {
        guard isSignatureValid else { throw .simulatedSignatureInvalid }
        return VerifiedEvidence(
            platform: .simulated, measurements: ["measurement": measurement, "platformkey": platformKey.compressed], reportData: reportData,
            tcb: TCBEvaluation(status: .notEvaluated), isDebug: false, verifiedAt: time, collateralChecked: false)
    }
}
