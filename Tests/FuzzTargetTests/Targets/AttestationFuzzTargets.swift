import Foundation

@testable import Attestation

/// Evidence and its certificates, CRLs and collateral, from the real samples in Tests/Fixtures/attestation.
///
/// Verification targets check one invariant beyond "no crash": evidence that verifies must report exactly the
/// measurements and report data of the genuine sample it came from (changing an unsigned byte is allowed; changing
/// what the verifier vouches for is a finding).
enum AttestationFuzzTargets {
    static let builders: [FuzzTargetBuilder] = [
        ("sgx-quote", { try intelQuote($0, tdx: false) }),
        ("tdx-quote", { try intelQuote($0, tdx: true) }),
        ("snp-report", snpReport),
        ("nitro-document", nitroDocument),
        ("amd-certificate", amdCertificate),
        ("x509-certificate", x509Certificate),
        ("intel-crl", intelCRL),
        ("amd-crl", amdCRL),
        ("intel-collateral", intelCollateral),
    ]

    static let intelTime = RFC3339.parse("2025-07-01T00:00:00Z")!
    static let snpTime = RFC3339.parse("2024-06-01T00:00:00Z")!
    static let nitroTime = RFC3339.parse("2024-09-07T14:37:39Z")!

    static func nitroSamples(_ f: FuzzFixtures) throws -> [[UInt8]] {
        try ["nitro_attestation.b64", "nitro_attestation_debug.b64"].map { name in
            let text = String(decoding: try f.bytes("attestation/aws-nitro/" + name), as: UTF8.self)
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw FuzzFixtures.Missing(path: name + " (not base64)")
            }
            return [UInt8](data)
        }
    }

    /// Fails when `verified` vouches for anything other than one of the genuine verdicts.
    static func checkClaims(_ verified: VerifiedEvidence, genuine: [VerifiedEvidence], _ target: String) throws(FuzzFinding) {
        guard genuine.contains(where: { $0.measurements == verified.measurements && $0.reportData == verified.reportData && $0.isDebug == verified.isDebug })
        else { throw FuzzFinding(target: target, detail: "verified evidence with claims no genuine sample makes") }
    }

    static func intelQuote(_ f: FuzzFixtures, tdx: Bool) throws -> FuzzTarget {
        let name = tdx ? "tdx-quote" : "sgx-quote"
        let platform: AttestationPlatform = tdx ? .tdx : .sgx
        let quotes = tdx ? [try f.bytes("attestation/intel-tdx/tdx_quote_v4.bin")]
            : [try f.bytes("attestation/intel-sgx/sgx_quote_v3.bin"), try f.bytes("attestation/intel-sgx/sgx_quote_v3_debug_enclave.bin")]
        let collateral = try IntelCollateral(json: f.bytes(tdx ? "attestation/intel-tdx/tdx_quote_v4_collateral.json" : "attestation/intel-sgx/sgx_quote_v3_collateral.json"))
        // Prepared once: each input then costs one quote verification, as in the node.
        let prepared = try PreparedIntelCollateral(collateral, at: intelTime)
        let verifier = EvidenceVerifier()
        let genuine = quotes.compactMap { try? verifier.verify($0, platform: platform, collateral: Collateral(preparedIntel: prepared), at: intelTime) }
        return FuzzTarget(name: name, seeds: quotes) { bytes throws(FuzzFinding) in
            guard let evidence = try? Evidence.parse(bytes, platform: platform) else { return }
            guard let verified = try? verifier.verify(evidence, collateral: Collateral(preparedIntel: prepared), at: intelTime) else { return }
            try checkClaims(verified, genuine: genuine, name)
        }
    }

    static func snpReport(_ f: FuzzFixtures) throws -> FuzzTarget {
        let reports = [try f.bytes("attestation/amd-sev-snp/milan_vcek_report_v2.bin"), try f.bytes("attestation/amd-sev-snp/milan_vcek_report_v2_debug.bin")]
        let vceks = [try f.bytes("attestation/amd-sev-snp/milan_vcek_report_v2.vcek.der"), try f.bytes("attestation/amd-sev-snp/milan_vcek_report_v2_debug.vcek.der")]
        let verifier = EvidenceVerifier()
        let genuine = zip(reports, vceks).compactMap { try? verifier.verify($0, platform: .sevSNP, collateral: Collateral(certificates: [$1]), at: snpTime) }
        return FuzzTarget(name: "snp-report", seeds: reports) { bytes throws(FuzzFinding) in
            guard let evidence = try? Evidence.parse(bytes, platform: .sevSNP) else { return }
            for vcek in vceks {
                guard let verified = try? verifier.verify(evidence, collateral: Collateral(certificates: [vcek]), at: snpTime) else { continue }
                try checkClaims(verified, genuine: genuine, "snp-report")
            }
        }
    }

    static func nitroDocument(_ f: FuzzFixtures) throws -> FuzzTarget {
        let documents = try nitroSamples(f)
        let verifier = EvidenceVerifier()
        let times = [nitroTime, RFC3339.parse("2024-09-07T14:38:06Z")!]
        let genuine = zip(documents, times).compactMap { try? verifier.verify($0, platform: .nitro, at: $1) }
        return FuzzTarget(name: "nitro-document", seeds: documents) { bytes throws(FuzzFinding) in
            _ = try? CBORValue.decode(bytes)
            guard let evidence = try? Evidence.parse(bytes, platform: .nitro) else { return }
            for time in times {
                guard let verified = try? verifier.verify(evidence, at: time) else { continue }
                try checkClaims(verified, genuine: genuine, "nitro-document")
            }
        }
    }

    /// A DER certificate in AMD's RSA-PSS profile, parsed alone and then used as the VCEK of the genuine report.
    static func amdCertificate(_ f: FuzzFixtures) throws -> FuzzTarget {
        let report = try f.bytes("attestation/amd-sev-snp/milan_vcek_report_v2.bin")
        let vcek = try f.bytes("attestation/amd-sev-snp/milan_vcek_report_v2.vcek.der")
        let verifier = EvidenceVerifier()
        let genuine = [try verifier.verify(report, platform: .sevSNP, collateral: Collateral(certificates: [vcek]), at: snpTime)]
        return FuzzTarget(name: "amd-certificate", seeds: [vcek] + TrustAnchors.production.amdCertificates) { der throws(FuzzFinding) in
            guard let cert = try? AMDCertificate(der: der, name: "fuzz") else { return }
            _ = cert.integerExtension("1.3.6.1.4.1.3704.1.3.1")
            _ = cert.stringExtension("1.3.6.1.4.1.3704.1.2")
            guard let verified = try? verifier.verify(report, platform: .sevSNP, collateral: Collateral(certificates: [der]), at: snpTime) else { return }
            try checkClaims(verified, genuine: genuine, "amd-certificate")
        }
    }

    /// X.509 certificates of the Intel PCK chains, the collateral signer and Nitro, parsed with the PCK extension.
    static func x509Certificate(_ f: FuzzFixtures) throws -> FuzzTarget {
        let sgx = try IntelQuote(bytes: f.bytes("attestation/intel-sgx/sgx_quote_v3.bin"))
        let tdx = try IntelQuote(bytes: f.bytes("attestation/intel-tdx/tdx_quote_v4.bin"))
        let collateral = try IntelCollateral(json: f.bytes("attestation/intel-sgx/sgx_quote_v3_collateral.json"))
        let nitro = try NitroDocument(bytes: nitroSamples(f)[0])
        let seeds = try PEM.certificates(bytes: sgx.pckCertificateChainPEM) + PEM.certificates(bytes: tdx.pckCertificateChainPEM)
            + PEM.certificates(collateral.tcbInfoIssuerChainPEM) + [nitro.certificate] + nitro.caBundle
        let sgxChain = try PEM.certificates(bytes: sgx.pckCertificateChainPEM)
        let root = TrustAnchors.production.intelRootCA
        return FuzzTarget(name: "x509-certificate", seeds: seeds) { der throws(FuzzFinding) in
            guard let cert = try? CertificateChain.certificate(der, "fuzz") else { return }
            _ = try? PCKExtension(certificate: cert)
            // As the PCK leaf of the genuine chain: a changed leaf must not validate unless it is the genuine one.
            if (try? CertificateChain.validate([der] + sgxChain.dropFirst(), root: root, name: "PCK", at: intelTime)) != nil,
                let leaf = try? CertificateChain.certificate(sgxChain[0], "PCK"), cert != leaf {
                throw FuzzFinding(target: "x509-certificate", detail: "a certificate other than the genuine PCK leaf validated under its CA")
            }
        }
    }

    static func intelCRL(_ f: FuzzFixtures) throws -> FuzzTarget {
        let sgx = try IntelCollateral(json: f.bytes("attestation/intel-sgx/sgx_quote_v3_collateral.json"))
        let tdx = try IntelCollateral(json: f.bytes("attestation/intel-tdx/tdx_quote_v4_collateral.json"))
        let quote = try IntelQuote(bytes: f.bytes("attestation/intel-sgx/sgx_quote_v3.bin"))
        let pck = try CertificateChain.certificate(PEM.certificates(bytes: quote.pckCertificateChainPEM)[0], "PCK")
        let issuers = [try CertificateChain.certificate(TrustAnchors.production.intelRootCA, "root")]
            + [sgx, tdx].compactMap { c in (try? PEM.certificates(c.pckCRLIssuerChainPEM))?.first.flatMap { try? CertificateChain.certificate($0, "CRL issuer") } }
        return FuzzTarget(name: "intel-crl", seeds: [sgx.rootCACRL, sgx.pckCRL, tdx.pckCRL]) { der throws(FuzzFinding) in
            guard let crl = try? CertificateRevocationList(der: der, name: "fuzz") else { return }
            for issuer in issuers { _ = try? crl.validate(issuer: issuer, at: intelTime, name: "fuzz") }
            _ = crl.isRevoked(pck)
        }
    }

    /// AMD KDS CRLs (the synthetic test PKI's: no real one is in the fixtures), validated against the test ARK as
    /// the SEV-SNP verifier does; only a genuine CRL may validate (the ARK's RSASSA-PSS signature covers the rest).
    static func amdCRL(_ f: FuzzFixtures) throws -> FuzzTarget {
        let pki = "attestation/amd-sev-snp/test-pki/"
        let ark = try AMDCertificate(der: f.bytes(pki + "ark.der"), name: "test ARK")
        let vcek = try AMDCertificate(der: f.bytes(pki + "vcek.der"), name: "test VCEK")
        let seeds = try ["crl.der", "crl_revokes_vcek.der", "crl_revokes_ask.der", "crl_forged.der", "crl_pkcs1.der"].map { try f.bytes(pki + $0) }
        let time = RFC3339.parse("2026-01-15T00:00:00Z")!
        return FuzzTarget(name: "amd-crl", seeds: seeds) { der throws(FuzzFinding) in
            guard let crl = try? CertificateRevocationList(der: der, name: "fuzz") else { return }
            _ = crl.lists(vcek)
            guard (try? crl.validate(ark: ark, at: time, name: "fuzz")) != nil else { return }
            guard seeds.prefix(3).contains(der) else { throw FuzzFinding(target: "amd-crl", detail: "a CRL the test ARK did not sign validated") }
        }
    }

    /// The collateral JSON (PCS responses: TCB info, QE identity, CRLs, chains) and its preparation (signature checks).
    static func intelCollateral(_ f: FuzzFixtures) throws -> FuzzTarget {
        let seeds = [try f.bytes("attestation/intel-sgx/sgx_quote_v3_collateral.json"), try f.bytes("attestation/intel-tdx/tdx_quote_v4_collateral.json")]
        return FuzzTarget(name: "intel-collateral", seeds: seeds) { json throws(FuzzFinding) in
            guard let collateral = try? IntelCollateral(json: json) else { return }
            _ = try? TCBInfo(json: collateral.tcbInfoJSON)
            _ = try? QEIdentity(json: collateral.qeIdentityJSON)
            _ = try? PreparedIntelCollateral(collateral, at: intelTime)
        }
    }
}
