import Foundation
import Testing
import TestSupport

/// `darknode attest verify` on evidence whose certificate is hostile DER (issue 17): a typed rejection with exit
/// status 1 — not a trap (SIGILL/SIGTRAP), which is what the RSASSA-PSS parameters `[0] { SEQUENCE {} }` caused.
@Suite("darknode attest verify with hostile certificates (subprocess)", .dedicatedThreadForBlockingWaits)
struct HostileCertificateCLITests {
    /// A well-formed SEV-SNP report v2 (1184 bytes): version 2, SIGNATURE_ALGO 1, everything else zero. It parses; the
    /// verifier reaches the supplied certificate before any signature.
    static var report: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x4A0)
        bytes[0] = 2
        bytes[0x34] = 1
        return bytes
    }

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        precondition(content.count < 0x10000)
        if content.count < 0x80 { return [tag, UInt8(content.count)] + content }
        if content.count < 0x100 { return [tag, 0x81, UInt8(content.count)] + content }
        return [tag, 0x82, UInt8(content.count >> 8), UInt8(content.count & 0xFF)] + content
    }

    /// A certificate-shaped SEQUENCE { TBS, the crafted algorithm, BIT STRING }.
    static var craftedCertificate: [UInt8] {
        let algorithm: [UInt8] = [0x30, 0x11, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x04, 0xa0, 0x02, 0x30, 0x00]
        let tbs = tlv(0x30, tlv(0x02, [1]) + algorithm)
        return tlv(0x30, tbs + algorithm + tlv(0x03, [0] + [UInt8](repeating: 0xAB, count: 64)))
    }

    @Test func craftedVCEKIsRejectedWithATypedErrorAndExitStatusOne() throws {
        let work = try AttestCLITests.Workspace()
        try Data(Self.report).write(to: URL(fileURLWithPath: work.file("report.bin")))
        try Data(Self.craftedCertificate).write(to: URL(fileURLWithPath: work.file("vcek.der")))
        let result = try AttestCLITests.run(
            AttestCLITests.darknode,
            ["attest", "verify", work.file("report.bin"), "--platform", "sev-snp", "--cert-chain", work.file("vcek.der"), "--at", "2024-06-01T00:00:00Z"])
        #expect(result.status == 1, "exit status \(result.status); stderr: \(result.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(json["verdict"] as? String == "rejected")
        let reasons = json["reasons"] as? [String] ?? []
        #expect(reasons.count == 1)
        #expect(reasons.first?.hasPrefix("EvidenceVerifier: malformed certificate data (supplied certificate 0)") == true, "\(reasons)")
    }
}
