import Foundation
import Secp256k1
import Testing
import TestSupport

@testable import Attestation

/// Tampering, truncation, wrong roots, wrong times, wrong bindings and low TCB each fail with their own reason.
@Suite(.dedicatedThread) struct NegativeTests {
    let verifier = EvidenceVerifier()

    /// What a one-bit change at `offset` of the SGX v3 sample must cause (the quote is verified without
    /// collateral, so the order is: parse, PCK chain, QE report signature, QE binding, quote signature).
    func expectedSGXFailure(at offset: Int) -> (AttestationError) -> Bool {
        switch offset {
        case 0..<4: return { if case .parse = $0 { true } else { false } }  // version, key type
        case 12..<28: return { if case .parse(.invalidField(_, "qe_vendor_id", _)) = $0 { true } else { false } }
        case 28..<432: return { $0 == .quoteSignatureInvalid }
        case 436..<500: return { $0 == .quoteSignatureInvalid }  // quote signature r‖s
        case 500..<564: return { $0 == .qeReportDataMismatch }  // attestation key (bound by the QE report)
        case 564..<948: return { $0 == .qeReportSignatureInvalid }  // QE report
        case 948..<1012: return { $0 == .qeReportSignatureInvalid }  // QE report signature
        case 1014..<1046: return { $0 == .qeReportDataMismatch }  // QE authentication data
        default: return { _ in true }
        }
    }

    @Test func sgxBitFlipsAcrossTheSignedRanges() throws {
        let quote = try Samples.sgxQuote()
        let ranges = [0..<4, 12..<432, 436..<1012, 1014..<1046]
        for range in ranges {
            for offset in range {
                var tampered = quote
                tampered[offset] ^= UInt8(1 << (offset % 8))
                do {
                    _ = try verifier.verify(tampered, platform: .sgx, at: Samples.sgxTime)
                    Issue.record("bit flip at \(offset) was accepted")
                } catch {
                    #expect(expectedSGXFailure(at: offset)(error), "offset \(offset): \(error)")
                }
            }
        }
    }

    @Test func tdxBitFlipsInTheTDReport() throws {
        let quote = try Samples.tdxQuote()
        let collateral = Collateral(intel: try Samples.tdxCollateral())
        for offset in stride(from: 48, to: 632, by: 7) {
            var tampered = quote
            tampered[offset] ^= 0x80
            #expect(throws: AttestationError.quoteSignatureInvalid) { try verifier.verify(tampered, collateral: collateral, at: Samples.tdxTime) }
        }
    }

    /// One-bit changes in the SNP report's signed range [0, 0x2A0) and its signature.
    @Test func snpBitFlipsAcrossTheSignedRange() throws {
        let report = try Samples.snpReport()
        let collateral = Collateral(certificates: [try Samples.snpVCEK()])
        for offset in 0..<0x330 {
            var tampered = report
            tampered[offset] ^= UInt8(1 << (offset % 8))
            do {
                _ = try verifier.verify(tampered, platform: .sevSNP, collateral: collateral, at: Samples.snpTime)
                Issue.record("bit flip at \(offset) was accepted")
            } catch {
                switch offset {
                case 0..<4, 0x48..<0x4C:
                    // version (2 → 3 is still a valid format) and signer info (author key / masked chip id / VLEK bits)
                    switch error {
                    case .parse, .reportSignatureInvalid, .endorsementKeyMismatch: break
                    default: Issue.record("offset \(offset): \(error)")
                    }
                case 0x34..<0x38, 0x4C..<0x50, 0x188..<0x1A0, 0x1F8..<0x2A0:
                    // signature algorithm and reserved (must-be-zero) fields
                    guard case .parse = error else { Issue.record("offset \(offset): \(error)"); continue }
                case 0x182..<0x186:
                    // reserved bytes of REPORTED_TCB: no certificate extension covers them, the signature does
                    #expect(error == .reportSignatureInvalid, "offset \(offset)")
                case 0x180..<0x188, 0x1A0..<0x1E0:
                    // REPORTED_TCB and CHIP_ID are checked against the VCEK before the signature
                    guard case .endorsementKeyMismatch = error else { Issue.record("offset \(offset): \(error)"); continue }
                case 0x2A0..<0x2D0, 0x2E8..<0x318:
                    #expect(error == .reportSignatureInvalid, "offset \(offset)")
                case 0x2D0..<0x2E8, 0x318..<0x330:
                    guard case .parse(.invalidField(_, "signature", _)) = error else { Issue.record("offset \(offset): \(error)"); continue }
                default:
                    #expect(error == .reportSignatureInvalid, "offset \(offset)")
                }
            }
        }
    }

    @Test func nitroBitFlipsInPCRsFailTheCOSESignature() throws {
        let doc = try Samples.nitro()
        let pcr0 = try NitroDocument(bytes: doc).pcrs[0]!
        let at = try #require(doc.firstRange(of: pcr0)).lowerBound
        for offset in at..<(at + 48) {
            var tampered = doc
            tampered[offset] ^= 1
            #expect(throws: AttestationError.coseSignatureInvalid) { try verifier.verify(tampered, at: Samples.nitroTime) }
        }
        var badSignature = doc
        badSignature[badSignature.count - 1] ^= 1
        #expect(throws: AttestationError.coseSignatureInvalid) { try verifier.verify(badSignature, at: Samples.nitroTime) }
    }

    @Test func truncationAtEveryLengthIsATypedError() throws {
        let samples: [(AttestationPlatform, [UInt8], Int)] = [
            (.sgx, try Samples.sgxQuote(), 4600), (.sgx, try Samples.sgxDebugQuote(), 4603), (.tdx, try Samples.tdxQuote(), 4936),
            (.sevSNP, try Samples.snpReport(), 1184), (.nitro, try Samples.nitro(), 7539),
        ]
        for (platform, bytes, end) in samples {
            for length in 0..<end {
                #expect(throws: EvidenceParseError.self, "\(platform) length \(length)") { try Evidence.parse(bytes.prefix(length), platform: platform) }
            }
            // Intel quotes tolerate padding after the signature data (it is unsigned); nothing else does.
            if platform == .sgx || platform == .tdx {
                #expect(try IntelQuote(bytes: bytes + [0, 0, 0]).trailingByteCount == bytes.count + 3 - end)
            } else {
                #expect(throws: EvidenceParseError.self) { try Evidence.parse(bytes + [0], platform: platform) }
            }
        }
    }

    @Test func wrongPinnedRoots() throws {
        let production = TrustAnchors.production
        let swapped = EvidenceVerifier(trustAnchors: TrustAnchors(intelRootCA: production.nitroRoot, amdCertificates: [production.amdCertificates[0]], nitroRoot: production.intelRootCA))
        #expect(throws: AttestationError.untrustedRoot(chain: "PCK")) { try swapped.verify(Samples.sgxQuote(), at: Samples.sgxTime) }
        #expect(throws: AttestationError.untrustedRoot(chain: "AMD")) {
            try swapped.verify(Samples.snpReport(), collateral: Collateral(certificates: [Samples.snpVCEK()]), at: Samples.snpTime)
        }
        #expect(throws: AttestationError.untrustedRoot(chain: "Nitro")) { try swapped.verify(Samples.nitro(), at: Samples.nitroTime) }
        // An ARK supplied with the evidence is never a trust anchor.
        let noAMD = EvidenceVerifier(trustAnchors: TrustAnchors(intelRootCA: production.intelRootCA, amdCertificates: [], nitroRoot: production.nitroRoot))
        #expect(throws: AttestationError.untrustedRoot(chain: "AMD")) {
            try noAMD.verify(Samples.snpReport(), collateral: Collateral(certificates: [Samples.snpVCEK()] + production.amdCertificates), at: Samples.snpTime)
        }
    }

    /// The error `body` throws, or nil if it succeeded.
    func failure(_ body: () throws(AttestationError) -> VerifiedEvidence) -> AttestationError? {
        do { _ = try body(); return nil } catch { return error }
    }

    @Test func timesOutsideTheValidityWindows() throws {
        let sgx = Collateral(intel: try Samples.sgxCollateral())
        let quote = try Samples.sgxQuote()
        // After the PCK CRL's nextUpdate (2025-07-19T10:23:18Z) and the TCB info's nextUpdate.
        let late = failure { () throws(AttestationError) in try verifier.verify(quote, collateral: sgx, at: Samples.time("2025-08-01T00:00:00Z")) }
        #expect(late == .crlInvalid(which: "PCK CRL", detail: "expired at nextUpdate 2025-07-19T10:23:18Z"))
        // Before the collateral was issued: the CRLs' thisUpdate is in the future.
        let early = failure { () throws(AttestationError) in try verifier.verify(quote, collateral: sgx, at: Samples.time("2025-06-01T00:00:00Z")) }
        if case .crlInvalid = early {} else if case .collateralExpired = early {} else { Issue.record("unexpected \(String(describing: early))") }
        // Before the PCK certificate existed.
        let ancient = failure { () throws(AttestationError) in try verifier.verify(quote, at: Samples.time("2017-01-01T00:00:00Z")) }
        if case .certificateNotValidAt = ancient {} else { Issue.record("unexpected \(String(describing: ancient))") }
        // The Nitro leaf lives three hours.
        let nitro = try Samples.nitro()
        let stale = failure { () throws(AttestationError) in try verifier.verify(nitro, at: Samples.nitroTime.addingTimeInterval(4 * 3600)) }
        if case .certificateNotValidAt = stale {} else { Issue.record("unexpected \(String(describing: stale))") }
        // The VCEK is valid to 2030-04-03.
        let report = try Samples.snpReport(), vcek = try Samples.snpVCEK()
        let expired = failure { () throws(AttestationError) in
            try verifier.verify(report, collateral: Collateral(certificates: [vcek]), at: Samples.time("2031-01-01T00:00:00Z"))
        }
        if case .certificateNotValidAt = expired {} else { Issue.record("unexpected \(String(describing: expired))") }
    }

    @Test func wrongReportDataBinding() throws {
        let identity = try PrivateKey(bytes: Array(repeating: 5, count: 32)).publicKey
        let binding = ReportDataBinding(identityKey: identity, nonce: Array(repeating: 0xAA, count: 32))
        let sim = try SimulatedEvidence.sign(measurement: Array(repeating: 7, count: 32), reportData: binding.reportData,
                                             platformKey: PrivateKey(bytes: Array(repeating: 3, count: 32)))
        let v = try verifier.verify(sim.encoded, at: Samples.sgxTime)
        let policy = AttestationPolicy(allowSimulation: true)
        #expect(policy.evaluate(v, binding: binding, at: Samples.sgxTime) == .accepted)
        let otherNonce = ReportDataBinding(identityKey: identity, nonce: Array(repeating: 0xAB, count: 32))
        let decision = policy.evaluate(v, binding: otherNonce, at: Samples.sgxTime)
        #expect(decision.reasons.count == 1 && decision.reasons[0].hasPrefix("ReportDataBindingPolicy:"))
        let otherKey = ReportDataBinding(identityKey: try PrivateKey(bytes: Array(repeating: 6, count: 32)).publicKey, nonce: binding.nonce)
        #expect(policy.evaluate(v, binding: otherKey, at: Samples.sgxTime).reasons.first?.hasPrefix("ReportDataBindingPolicy:") == true)
        // Real hardware evidence not made for this binding is rejected the same way.
        let snp = try verifier.verify(Samples.snpReport(), collateral: Collateral(certificates: [Samples.snpVCEK()]), at: Samples.snpTime)
        #expect(AttestationPolicy().evaluate(snp, binding: binding, at: Samples.snpTime).reasons.first?.hasPrefix("ReportDataBindingPolicy:") == true)
    }

    @Test func tcbBelowTheFloorAndTheGraceList() throws {
        let v = try verifier.verify(Samples.sgxQuote(), collateral: Collateral(intel: Samples.sgxCollateral()), at: Samples.sgxTime)
        let strict = AttestationPolicy(minimumTCB: .upToDate, requireBinding: false)
        let decision = strict.evaluate(v, at: Samples.sgxTime)
        #expect(decision.reasons.count == 1 && decision.reasons[0].hasPrefix("TCBLevelPolicy: TCB status ConfigurationAndSWHardeningNeeded is below the minimum UpToDate"))
        let grace = [TCBLevelPolicy.Grace(status: .configurationAndSWHardeningNeeded, until: Samples.time("2025-12-31T00:00:00Z"))]
        let lenient = AttestationPolicy(minimumTCB: .upToDate, grace: grace, requireBinding: false)
        #expect(lenient.evaluate(v, at: Samples.sgxTime) == .accepted)
        #expect(lenient.evaluate(v, at: Samples.time("2026-01-01T00:00:00Z")).reasons.first?.hasPrefix("TCBLevelPolicy:") == true)
        #expect(AttestationPolicy(minimumTCB: .configurationAndSWHardeningNeeded, requireBinding: false).evaluate(v, at: Samples.sgxTime) == .accepted)
        // A grace entry for a better status does not cover a worse one.
        let narrow = AttestationPolicy(minimumTCB: .upToDate, grace: [.init(status: .swHardeningNeeded, until: Samples.time("2030-01-01T00:00:00Z"))], requireBinding: false)
        #expect(!narrow.evaluate(v, at: Samples.sgxTime).isAccepted)
        // Intel evidence without collateral has no TCB level.
        let bare = try verifier.verify(Samples.sgxQuote(), at: Samples.sgxTime)
        #expect(strict.evaluate(bare, at: Samples.sgxTime).reasons.first?.hasPrefix("TCBLevelPolicy: no collateral") == true)
    }

    @Test func collateralForTheWrongQuote() throws {
        // TDX collateral cannot vouch for an SGX quote (FMSPC, id and issuer all differ).
        #expect(throws: AttestationError.self) {
            try verifier.verify(Samples.sgxQuote(), collateral: Collateral(intel: Samples.tdxCollateral()), at: Samples.sgxTime)
        }
        var collateral = try Samples.sgxCollateral()
        collateral.tcbInfoJSON[collateral.tcbInfoJSON.count / 2] ^= 1
        #expect(throws: AttestationError.collateralSignatureInvalid(which: "TCB info")) {
            try verifier.verify(Samples.sgxQuote(), collateral: Collateral(intel: collateral), at: Samples.sgxTime)
        }
        var qe = try Samples.sgxCollateral()
        qe.qeIdentityJSON[10] ^= 1
        #expect(throws: AttestationError.collateralSignatureInvalid(which: "QE identity")) {
            try verifier.verify(Samples.sgxQuote(), collateral: Collateral(intel: qe), at: Samples.sgxTime)
        }
    }

    @Test func snpWithTheWrongVCEK() throws {
        #expect(throws: AttestationError.self) {
            try verifier.verify(Samples.snpReport(), collateral: Collateral(certificates: [Samples.snpDebugVCEK()]), at: Samples.snpTime)
        }
        #expect(throws: AttestationError.collateralMissing("VCEK or VLEK certificate")) { try verifier.verify(Samples.snpReport(), at: Samples.snpTime) }
    }
}
