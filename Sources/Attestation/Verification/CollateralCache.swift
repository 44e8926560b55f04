import Foundation
import Synchronization

/// The collateral a node keeps for appraising its peers, held in memory (issue 17: "verified once, cached with its
/// expiry, reused"). The node's I/O layer reads the files of its collateral directory and hands their bytes in; this
/// type stays pure (time is a parameter).
///
/// - Intel: one dcap-qvl collateral JSON per platform model (TCB info is per FMSPC and per SGX/TDX). A quote is
///   matched to the collateral whose TCB info names the FMSPC of the quote's PCK certificate and the quote's TEE.
///   That collateral is verified (`PreparedIntelCollateral`) the first time it is needed and kept with its
///   validity window; later quotes reuse it until a quote's time falls outside the window, when it is verified
///   again at that time (which fails with `collateralExpired` once the operator's files are out of date).
/// - AMD: VCEK/VLEK certificates (and any ASK/ASVK), DER. A report is given the VCEK whose hwID is its CHIP_ID and
///   whose SPL extensions are its REPORTED_TCB, plus every RSA intermediate; the ARKs are the pinned trust anchors.
///   AMD KDS CRLs (DER, one per product line, i.e. per ARK) go with every SNP report; the verifier checks the one
///   its ARK issued (signature, window) when it verifies the report.
public final class CollateralCache: Sendable {
    /// One Intel collateral file, with what selects it.
    struct IntelEntry: Sendable {
        let name: String
        let collateral: IntelCollateral
        let isTDX: Bool
        let fmspc: [UInt8]
    }

    /// One AMD certificate file, parsed once.
    struct AMDEntry: Sendable {
        let name: String
        let der: [UInt8]
        let certificate: AMDCertificate
    }

    let trustAnchors: TrustAnchors
    let intel: [IntelEntry]
    let amd: [AMDEntry]
    /// AMD KDS CRLs: (file name, DER), parsed at load. One ARK may issue several (KDS serves one under `/vcek/` and
    /// one under `/vlek/`); the verifier checks every CRL of the report's ARK, so each must be current and none may
    /// list the chain (a stale one left beside a fresh one refuses, visibly, rather than being silently preferred).
    let amdCRLs: [(name: String, der: [UInt8])]
    private let prepared = Mutex<[String: PreparedIntelCollateral]>([:])
    private let preparations = Atomic<Int>(0)

    /// Why a cache file was refused when the cache was built (a typo'd or truncated file fails the node's start,
    /// not a peer's appraisal later).
    public enum LoadError: Error, Equatable, Sendable, CustomStringConvertible {
        case intelCollateral(file: String, reason: String)
        case amdCertificate(file: String, reason: String)
        case amdCRL(file: String, reason: String)
        /// Two Intel files claim the same platform model: which one applies would be arbitrary.
        case duplicateIntelCollateral(file: String, other: String)

        public var description: String {
            switch self {
            case .intelCollateral(let f, let r): "collateral file \(f): not Intel collateral: \(r)"
            case .amdCertificate(let f, let r): "collateral file \(f): not an AMD certificate: \(r)"
            case .amdCRL(let f, let r): "collateral file \(f): not a CRL: \(r)"
            case .duplicateIntelCollateral(let f, let o): "collateral files \(f) and \(o) are for the same FMSPC and TEE"
            }
        }
    }

    /// - Parameters:
    ///   - intelCollateral: (file name, dcap-qvl collateral JSON) pairs.
    ///   - amdCertificates: (file name, DER) pairs.
    ///   - amdCRLs: (file name, DER) pairs, as KDS serves them (`/vcek/v1/{product}/crl`).
    public init(intelCollateral: [(name: String, json: [UInt8])], amdCertificates: [(name: String, der: [UInt8])],
                amdCRLs: [(name: String, der: [UInt8])] = [], trustAnchors: TrustAnchors = .production) throws(LoadError) {
        self.trustAnchors = trustAnchors
        var intel: [IntelEntry] = []
        for (name, json) in intelCollateral {
            let entry: IntelEntry
            do {
                let collateral = try IntelCollateral(json: json)
                let tcbInfo = try TCBInfo(json: collateral.tcbInfoJSON)
                entry = IntelEntry(name: name, collateral: collateral, isTDX: tcbInfo.id == "TDX", fmspc: tcbInfo.fmspc)
            } catch {
                throw .intelCollateral(file: name, reason: "\(error)")
            }
            if let other = intel.first(where: { $0.isTDX == entry.isTDX && $0.fmspc == entry.fmspc }) {
                throw .duplicateIntelCollateral(file: name, other: other.name)
            }
            intel.append(entry)
        }
        var amd: [AMDEntry] = []
        for (name, der) in amdCertificates {
            do {
                amd.append(AMDEntry(name: name, der: der, certificate: try AMDCertificate(der: der, name: name)))
            } catch {
                throw .amdCertificate(file: name, reason: "\(error)")
            }
        }
        for (name, der) in amdCRLs {
            do { _ = try CertificateRevocationList(der: der, name: name) } catch { throw .amdCRL(file: name, reason: "\(error)") }
        }
        self.intel = intel
        self.amd = amd
        self.amdCRLs = amdCRLs
    }

    /// How many times Intel collateral has been verified (prepared) so far: once per file and validity window, not
    /// once per quote.
    public var intelPreparationCount: Int { preparations.load(ordering: .relaxed) }

    /// The collateral to verify `evidence` with at `time`. Platforms without collateral (Nitro, simulated) get none.
    public func collateral(for evidence: Evidence, at time: Date) throws(AttestationError) -> Collateral {
        switch evidence {
        case .sgx(let quote), .tdx(let quote):
            return Collateral(preparedIntel: try preparedIntel(for: quote, at: time))
        case .sevSNP(let report):
            return Collateral(certificates: amdCertificates(for: report), amdCRLs: amdCRLs.map(\.der))
        case .nitro, .simulated:
            return Collateral()
        }
    }

    func preparedIntel(for quote: IntelQuote, at time: Date) throws(AttestationError) -> PreparedIntelCollateral {
        let chain = try PEM.certificates(bytes: quote.pckCertificateChainPEM)
        guard let leaf = chain.first else { throw .malformedCertificate(which: "PCK chain", detail: "empty") }
        let fmspc = try PCKExtension(certificate: try CertificateChain.certificate(leaf, "PCK")).fmspc
        guard let entry = intel.first(where: { $0.isTDX == quote.isTDX && $0.fmspc == fmspc }) else {
            throw .collateralMissing("Intel \(quote.isTDX ? "TDX" : "SGX") collateral for FMSPC \(fmspc.hexString) in the collateral cache")
        }
        if let cached = prepared.withLock({ $0[entry.name] }), cached.validFrom <= time, time <= cached.validUntil {
            return cached
        }
        let fresh = try PreparedIntelCollateral(entry.collateral, trustAnchors: trustAnchors, at: time)
        preparations.add(1, ordering: .relaxed)
        prepared.withLock { $0[entry.name] = fresh }
        return fresh
    }

    func amdCertificates(for report: SNPReport) -> [[UInt8]] {
        let base = SNPVerifier.extensionBase
        let tcb = report.reportedTCB
        let endorsement = amd.first { entry in
            let c = entry.certificate
            guard c.keyAlgorithmOID == AMDCertificate.ecPublicKey else { return false }
            if !report.isChipIDMasked, c.extensions["\(base).4"]?.value != report.chipID { return false }
            return c.integerExtension("\(base).3.1") == Int(tcb.bootloader) && c.integerExtension("\(base).3.2") == Int(tcb.tee)
                && c.integerExtension("\(base).3.3") == Int(tcb.snp) && c.integerExtension("\(base).3.8") == Int(tcb.microcode)
        }
        // No match: no endorsement key is supplied and the verifier says which one is missing.
        let intermediates = amd.filter { $0.certificate.keyAlgorithmOID == AMDCertificate.rsaEncryption }.map(\.der)
        return (endorsement.map { [$0.der] } ?? []) + intermediates
    }
}
