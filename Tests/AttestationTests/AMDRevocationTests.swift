import Foundation
import Testing
import TestSupport

@testable import Attestation

/// AMD KDS CRLs for SEV-SNP (issue 17): the CRL issued by the report's ARK is checked against the pinned ARK (name,
/// cRLSign, RSASSA-PSS SHA-384 signature, thisUpdate/nextUpdate), and a listed VCEK or ASK is refused.
///
/// No real AMD CRL is in the test data, and a real one can never list a certificate of ours, so these tests use the
/// synthetic test PKI in `amd-sev-snp/test-pki/` (`scripts/fixtures/amd_test_pki.py`): an RSA-PSS ARK and ASK, a
/// P-384 VCEK with the real VCEK's extension layout, the real Milan sample re-signed by it, and ARK-issued CRLs
/// valid 2026-01-01 to 2026-02-01.
@Suite(.dedicatedThread) struct AMDRevocationTests {
    static func file(_ name: String) throws -> [UInt8] { try Samples.bytes("amd-sev-snp/test-pki/" + name) }
    static let inWindow = Samples.time("2026-01-15T00:00:00Z")

    /// The test ARK and ASK as trust anchors (the Intel and Nitro roots stay the production ones).
    static func anchors() throws -> TrustAnchors {
        let production = TrustAnchors.production
        return TrustAnchors(intelRootCA: production.intelRootCA, amdCertificates: [try file("ark.der"), try file("ask.der")],
                            nitroRoot: production.nitroRoot)
    }

    static func verify(crls: [String], at time: Date = inWindow) throws -> VerifiedEvidence {
        switch try outcome(crls: crls, at: time) {
        case .success(let v): return v
        case .failure(let e): throw e
        }
    }

    static func outcome(crls: [String], at time: Date) throws -> Result<VerifiedEvidence, AttestationError> {
        let collateral = Collateral(certificates: [try file("vcek.der")], amdCRLs: try crls.map { try file($0) })
        let (verifier, report) = (EvidenceVerifier(trustAnchors: try anchors()), try file("report.bin"))
        return Result { () throws(AttestationError) in try verifier.verify(report, platform: .sevSNP, collateral: collateral, at: time) }
    }

    static func error(crls: [String], at time: Date = inWindow) throws -> AttestationError? {
        if case .failure(let e) = try outcome(crls: crls, at: time) { return e }
        return nil
    }

    /// The synthetic chain is sound: the re-signed real report verifies under the test anchors.
    @Test func theSyntheticChainVerifies() throws {
        let v = try Self.verify(crls: [])
        #expect(v.platform == .sevSNP && v.measurements["reportedtcb"] == Samples.hex("0300000000000873"))
    }

    /// The attack: the host serves a report signed by a VCEK that AMD has revoked. The CRL lists its serial.
    @Test func revokedVCEKIsRefused() throws {
        let error = try Self.error(crls: ["crl_revokes_vcek.der"])
        guard case .certificateRevoked(let subject, _) = error, subject == "SEV-VCEK" else {
            Issue.record("expected the VCEK to be refused as revoked, got \(String(describing: error))")
            return
        }
    }

    /// A revoked ASK (what AMD's CRL is for: the ARK revokes the intermediates it issued) takes its VCEKs with it.
    @Test func revokedASKIsRefused() throws {
        let error = try Self.error(crls: ["crl_revokes_ask.der"])
        guard case .certificateRevoked(let subject, let serial) = error, subject == "SEV-Milan", serial == "010001" else {
            Issue.record("expected the ASK to be refused as revoked, got \(String(describing: error))")
            return
        }
    }

    /// A CRL with the ARK's name signed by another key (the host hides the revocation behind an empty list) is refused.
    @Test func crlNotSignedByThePinnedARKIsRefused() throws {
        let error = try Self.error(crls: ["crl_forged.der"])
        guard case .crlInvalid(_, let detail) = error, detail.contains("signature") else {
            Issue.record("expected a CRL signature refusal, got \(String(describing: error))")
            return
        }
    }

    /// AMD signs with RSASSA-PSS only; the ARK's key under PKCS#1 v1.5 is not an AMD CRL.
    @Test func crlWithoutPSSIsRefused() throws {
        let error = try Self.error(crls: ["crl_pkcs1.der"])
        guard case .crlInvalid = error else {
            Issue.record("expected a CRL algorithm refusal, got \(String(describing: error))")
            return
        }
    }

    /// An old CRL (after nextUpdate) could predate the revocation; one not yet valid is not one AMD issued by then.
    @Test func crlOutsideItsWindowIsRefused() throws {
        let late = try Self.error(crls: ["crl.der"], at: Samples.time("2026-03-01T00:00:00Z"))
        guard case .crlInvalid(_, let detail) = late, detail.contains("nextUpdate") else {
            Issue.record("expected an expired-CRL refusal, got \(String(describing: late))")
            return
        }
        let early = try Self.error(crls: ["crl.der"], at: Samples.time("2025-12-01T00:00:00Z"))
        guard case .crlInvalid(_, let detail) = early, detail.contains("thisUpdate") else {
            Issue.record("expected a not-yet-valid-CRL refusal, got \(String(describing: early))")
            return
        }
    }

    /// A CRL that does not list the chain's certificates lets the report through.
    @Test func crlNotListingTheChainIsAccepted() throws {
        _ = try Self.verify(crls: ["crl.der"])
    }

    /// No CRL for the report's ARK: the verifier says revocation was not checked, the default policy (and a policy
    /// document that does not mention it) refuses, and `requireCRL: false` admits.
    @Test func missingCRLIsRefusedWhenThePolicyRequiresIt() throws {
        let without = try Self.verify(crls: [])
        #expect(!without.revocationChecked)
        let refusal = ["SNPPolicy: no AMD CRL for the report's ARK was checked (none in the collateral)"]
        #expect(AttestationPolicy(requireBinding: false).evaluate(without, at: Self.inWindow).reasons == refusal)
        #expect(try PolicyDocument(json: Array("{}".utf8)).policy.evaluate(without, at: Self.inWindow).reasons == refusal)
        #expect(AttestationPolicy(requireBinding: false, snp: SNPPolicy(requireCRL: false)).evaluate(without, at: Self.inWindow) == .accepted)
        let optional = try PolicyDocument(json: Array(#"{"snp": {"requireCRL": false}}"#.utf8))
        #expect(optional.policy.evaluate(without, at: Self.inWindow) == .accepted)

        let with = try Self.verify(crls: ["crl.der"])
        #expect(with.revocationChecked)
        #expect(AttestationPolicy(requireBinding: false).evaluate(with, at: Self.inWindow) == .accepted)
    }

    /// A CRL issued under another name (another product line's ARK, or one a host made up) is not this report's:
    /// it is skipped, and revocation counts as not checked (so a policy requiring the CRL refuses).
    @Test func crlOfAnotherARKDoesNotCount() throws {
        let real = try EvidenceVerifier().verify(Samples.snpReport(), platform: .sevSNP,
                                                 collateral: Collateral(certificates: [Samples.snpVCEK()], amdCRLs: [try Self.file("crl_revokes_vcek.der")]),
                                                 at: Samples.snpTime)
        #expect(!real.revocationChecked)
        #expect(!AttestationPolicy(requireBinding: false).evaluate(real, at: Samples.snpTime).isAccepted)
    }

    /// Hostile CRL bytes are typed errors: every truncation, and every byte changed, of a genuine CRL (the ARK's
    /// signature covers the rest, so no changed CRL may validate).
    @Test func hostileCRLBytesAreTypedErrors() throws {
        let ark = try AMDCertificate(der: try Self.file("ark.der"), name: "test ARK")
        let genuine = try Self.file("crl_revokes_vcek.der")
        try CertificateRevocationList(der: genuine, name: "genuine").validate(ark: ark, at: Self.inWindow, name: "genuine")
        for length in 0..<genuine.count {
            #expect(throws: AttestationError.self, "truncated to \(length)") {
                try CertificateRevocationList(der: Array(genuine.prefix(length)), name: "truncated")
            }
        }
        var accepted: [Int] = []
        for i in 0..<genuine.count {
            var mutant = genuine
            mutant[i] ^= i % 2 == 0 ? 0x01 : 0x80
            do {
                try CertificateRevocationList(der: mutant, name: "mutant").validate(ark: ark, at: Self.inWindow, name: "mutant")
                accepted.append(i)
            } catch {
                guard case .crlInvalid = error else { Issue.record("byte \(i): \(error)"); continue }
            }
        }
        #expect(accepted.isEmpty, "changed CRLs accepted at bytes \(accepted)")
        // Through the verifier: a CRL of the right issuer that does not parse is not skipped.
        var broken = genuine
        broken[broken.count - 1] ^= 0xFF
        guard case .crlInvalid = try Self.errorWith(crlBytes: broken) else {
            Issue.record("a broken CRL of the report's ARK must refuse the report")
            return
        }
    }

    static func errorWith(crlBytes: [UInt8]) throws -> AttestationError? {
        let collateral = Collateral(certificates: [try file("vcek.der")], amdCRLs: [crlBytes])
        let (verifier, report) = (EvidenceVerifier(trustAnchors: try anchors()), try file("report.bin"))
        do throws(AttestationError) { _ = try verifier.verify(report, platform: .sevSNP, collateral: collateral, at: inWindow) } catch {
            return error
        }
        return nil
    }

    /// The node's collateral cache parses CRLs at load (one that does not parse stops the node) and hands them with
    /// every SNP report, so a revoked VCEK is refused through the cache as well.
    @Test func collateralCacheCarriesTheCRL() throws {
        let anchors = try Self.anchors()
        let vcek = [(name: "vcek.der", der: try Self.file("vcek.der"))]
        let evidence = try Evidence.parse(try Self.file("report.bin"), platform: .sevSNP)
        let revoking = try CollateralCache(intelCollateral: [], amdCertificates: vcek,
                                           amdCRLs: [("milan.crl", try Self.file("crl_revokes_vcek.der"))], trustAnchors: anchors)
        let collateral = try revoking.collateral(for: evidence, at: Self.inWindow)
        #expect(throws: AttestationError.certificateRevoked(subject: "SEV-VCEK", serial: try AMDCertificate(der: try Self.file("vcek.der"), name: "v").serialNumber.hexString)) {
            try EvidenceVerifier(trustAnchors: anchors).verify(evidence, collateral: collateral, at: Self.inWindow)
        }
        let clean = try CollateralCache(intelCollateral: [], amdCertificates: vcek, amdCRLs: [("milan.crl", try Self.file("crl.der"))], trustAnchors: anchors)
        #expect(try EvidenceVerifier(trustAnchors: anchors).verify(evidence, collateral: try clean.collateral(for: evidence, at: Self.inWindow), at: Self.inWindow).revocationChecked)

        #expect(throws: CollateralCache.LoadError.self) {
            try CollateralCache(intelCollateral: [], amdCertificates: vcek, amdCRLs: [("cut.crl", Array(try Self.file("crl.der").prefix(100)))])
        }
        // Several CRLs of one ARK (KDS's VCEK and VLEK lists) are all checked: one listing the VCEK refuses it.
        let two = try CollateralCache(intelCollateral: [], amdCertificates: vcek,
                                      amdCRLs: [("vcek.crl", try Self.file("crl.der")), ("vlek.crl", try Self.file("crl_revokes_vcek.der"))],
                                      trustAnchors: anchors)
        #expect(throws: AttestationError.certificateRevoked(subject: "SEV-VCEK", serial: try AMDCertificate(der: try Self.file("vcek.der"), name: "v").serialNumber.hexString)) {
            try EvidenceVerifier(trustAnchors: anchors).verify(evidence, collateral: try two.collateral(for: evidence, at: Self.inWindow), at: Self.inWindow)
        }
    }
}
