import Crypto
import Foundation
import Testing
import TestSupport
import X509

@testable import Attestation

/// Intel collateral must be signed by the certificates Intel's QVL pins (issue 17): TCB info and QE identity by
/// the "Intel SGX TCB Signing" certificate directly under the root, the PCK CRL by the PCK's own issuer.
@Suite(.dedicatedThread) struct IntelCollateralSignerTests {
    /// The verifier's error for evidence and collateral built by `make` (a harness failure is recorded, not returned).
    func failure(_ make: () throws -> (verifier: EvidenceVerifier, quote: [UInt8], collateral: Collateral)) -> AttestationError? {
        let input: (verifier: EvidenceVerifier, quote: [UInt8], collateral: Collateral)
        do { input = try make() } catch {
            Issue.record("test input: \(error)")
            return nil
        }
        do { _ = try input.verifier.verify(input.quote, collateral: input.collateral, at: Samples.sgxTime); return nil } catch { return error }
    }

    /// The harness is sound: the re-rooted sample with correctly signed collateral verifies, at the sample's status.
    @Test func reRootedSampleVerifies() throws {
        let pki = try TestIntelPKI()
        let verified = try pki.verifier.verify(pki.quote(), collateral: Collateral(intel: pki.collateral()), at: Samples.sgxTime)
        #expect(verified.collateralChecked)
        #expect(verified.tcb.status == .configurationAndSWHardeningNeeded)
        // The real verifier (Intel's root) refuses it: the chain ends in the test root, which only shares Intel's name.
        let quote = try pki.quote()
        #expect(throws: AttestationError.self) { try EvidenceVerifier().verify(quote, at: Samples.sgxTime) }
    }

    /// A TCB info signed by the platform's own PCK key (a valid chain to the root, but not Intel's TCB signer):
    /// whoever holds one PCK key could publish any TCB status for its platform.
    @Test func pckSignedTCBInfoIsRejected() throws {
        let pki = try TestIntelPKI()
        let collateral = try pki.collateral(tcbInfoSigner: pki.pck, tcbInfoChain: [pki.pck, pki.processorCA, pki.root])
        let error = failure { (pki.verifier, try pki.quote(), Collateral(intel: collateral)) }
        guard case .collateralSignerInvalid(which: "TCB info", _) = error else { Issue.record("expected collateralSignerInvalid, got \(String(describing: error))"); return }
    }

    @Test func pckSignedQEIdentityIsRejected() throws {
        let pki = try TestIntelPKI()
        let collateral = try pki.collateral(qeIdentitySigner: pki.pck, qeIdentityChain: [pki.pck, pki.processorCA, pki.root])
        let error = failure { (pki.verifier, try pki.quote(), Collateral(intel: collateral)) }
        guard case .collateralSignerInvalid(which: "QE identity", _) = error else { Issue.record("expected collateralSignerInvalid, got \(String(describing: error))"); return }
    }

    /// The right name is not enough: the signer must sit directly under the root and have a signing key usage.
    @Test func tcbSignerMustBeDirectlyUnderTheRootWithSigningUsage() throws {
        let pki = try TestIntelPKI()
        let usage = KeyUsage(digitalSignature: true, nonRepudiation: true)
        // "Intel SGX TCB Signing" issued by the PCK CA (a chain of length 2 below the root).
        let deep = TestIntelPKI.issue("Intel SGX TCB Signing", by: pki.processorCA, serial: [0x21], usage: usage)
        // Directly under the root, but a CA key without digitalSignature.
        let caShaped = TestIntelPKI.issue("Intel SGX TCB Signing", by: pki.root, serial: [0x22], pathLength: 0, usage: KeyUsage(keyCertSign: true))
        // Directly under the root with signing usage, but another name.
        let otherName = TestIntelPKI.issue("Intel SGX PCK Platform CA", by: pki.root, serial: [0x23], usage: usage)
        for (signer, chain) in [(deep, [deep, pki.processorCA, pki.root]), (caShaped, [caShaped, pki.root]), (otherName, [otherName, pki.root])] {
            let collateral = try pki.collateral(tcbInfoSigner: signer, tcbInfoChain: chain)
            let error = failure { (pki.verifier, try pki.quote(), Collateral(intel: collateral)) }
            guard case .collateralSignerInvalid(which: "TCB info", _) = error else {
                Issue.record("\(signer.name): expected collateralSignerInvalid, got \(String(describing: error))")
                continue
            }
        }
    }

    /// Real data: the SGX sample's PCK is issued by the Processor CA; the TDX sample's collateral carries the
    /// *Platform* CA's CRL, validly signed. Given as the SGX quote's PCK CRL it says nothing about the PCK.
    @Test func pckCRLFromAnotherCAIsRejected() throws {
        var collateral = try Samples.sgxCollateral()
        let tdx = try Samples.tdxCollateral()
        collateral.pckCRL = tdx.pckCRL
        collateral.pckCRLIssuerChainPEM = tdx.pckCRLIssuerChainPEM
        let error = failure { (EvidenceVerifier(), try Samples.sgxQuote(), Collateral(intel: collateral)) }
        guard case .crlInvalid(which: "PCK CRL", let detail) = error else { Issue.record("expected crlInvalid, got \(String(describing: error))"); return }
        #expect(detail.contains("Platform CA") && detail.contains("Processor CA"), "\(detail)")
    }

    /// With test keys: the PCK is revoked on its own CA's CRL; the attacker supplies another CA's (empty) CRL.
    @Test func revokedPCKCannotHideBehindAnotherCAsCRL() throws {
        let pki = try TestIntelPKI()
        let serial = Array(pki.pck.certificate.serialNumber.bytes)
        let revoked = try pki.collateral(revoked: [serial])
        #expect(throws: AttestationError.certificateRevoked(subject: pki.pck.certificate.subject.description, serial: pki.pck.certificate.serialNumber.description)) {
            try pki.verifier.verify(pki.quote(), collateral: Collateral(intel: revoked), at: Samples.sgxTime)
        }
        let otherCA = TestIntelPKI.issue("Intel SGX PCK Platform CA", by: pki.root, serial: [0x31], pathLength: 0, usage: KeyUsage(keyCertSign: true, cRLSign: true))
        let hidden = try pki.collateral(pckCRLIssuer: otherCA)
        let error = failure { (pki.verifier, try pki.quote(), Collateral(intel: hidden)) }
        guard case .crlInvalid(which: "PCK CRL", _) = error else { Issue.record("expected crlInvalid, got \(String(describing: error))"); return }
    }

    /// A CRL issuer without the cRLSign key usage may not sign CRLs.
    @Test func crlIssuerNeedsCRLSign() throws {
        let pki = try TestIntelPKI(caUsage: KeyUsage(keyCertSign: true))
        let error = failure { (pki.verifier, try pki.quote(), Collateral(intel: try pki.collateral())) }
        guard case .crlInvalid(which: "PCK CRL", let detail) = error else { Issue.record("expected crlInvalid, got \(String(describing: error))"); return }
        #expect(detail.contains("cRLSign"))
    }

    /// The PCK leaf signs the QE report: it must carry the digitalSignature key usage (Intel's PCK profile).
    @Test func pckLeafWithoutDigitalSignatureIsRejected() throws {
        let certSignOnly = try TestIntelPKI(pckUsage: KeyUsage(keyCertSign: true))
        let error = failure { (certSignOnly.verifier, try certSignOnly.quote(), Collateral()) }
        guard case .leafKeyUsageInvalid = error else { Issue.record("expected leafKeyUsageInvalid, got \(String(describing: error))"); return }
        let noUsage = try TestIntelPKI(pckUsage: nil)
        let missing = failure { (noUsage.verifier, try noUsage.quote(), Collateral()) }
        guard case .leafKeyUsageInvalid = missing else { Issue.record("expected leafKeyUsageInvalid, got \(String(describing: missing))"); return }
    }
}
