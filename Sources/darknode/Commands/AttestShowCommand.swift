import ArgumentParser
import Enclave
import Foundation
import Logging
import Secp256k1

/// `darknode attest show`: this node's evidence over a nonce, for `darknode attest verify` or any third party.
///
/// JSON on standard output (keys sorted): `platform`, `vendor`, `measurement`, `identityKey` (compressed
/// secp256k1, hex), `nonce`, `reportData`, `reportDataBinding`, and `evidence` (hex) with `evidenceBase64` — or,
/// with `--out FILE`, the raw evidence bytes in FILE and `evidenceFile` in the JSON instead.
struct AttestShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print this node's attestation evidence (JSON), binding its identity key and a nonce.")

    @Option(name: .long, help: "The node's data directory.")
    var dataDir: String = AttestShowCommand.defaultDataDirectory

    @Option(name: .long, help: "The verifier's nonce as hex (at most 64 bytes); 32 random bytes when omitted.")
    var nonce: String?

    @Option(name: .long, help: "Write the raw evidence bytes to this file instead of printing them.")
    var out: String?

    @Option(name: .long, help: "Override the configured platform: auto | sgx-gramine | configfs-tsm | simulated.")
    var platform: PlatformChoice?

    static var defaultDataDirectory: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.darknode"
    }

    func validate() throws {
        if let nonce {
            guard let bytes = Hex.decode(nonce) else { throw ValidationError("--nonce must be hex") }
            guard bytes.count <= IdentityReportData.nonceLengthMax else {
                throw ValidationError("--nonce is longer than \(IdentityReportData.nonceLengthMax) bytes")
            }
        }
    }

    func run() throws {
        let logger = Logger(label: "darknode.attest")
        let nonceBytes = nonce.flatMap { Hex.decode($0) } ?? (0..<32).map { _ in UInt8.random(in: .min ... .max) }
        let node = try DataDirectory(path: dataDir).open(platformOverride: platform, logger: logger)
        defer { try? node.store.close() }
        let evidence = try node.identity.evidence(platform: node.platform, nonce: nonceBytes)
        var object: [String: String] = [
            "platform": evidence.platform.rawValue,
            "vendor": evidence.platform.vendor.rawValue,
            "measurement": Hex.encode(evidence.measurement),
            "identityKey": Hex.encode(evidence.identityKey.compressed),
            "nonce": Hex.encode(evidence.nonce),
            "reportData": Hex.encode(evidence.reportData),
            "reportDataBinding": "SHA-512(\"darknode/attestation/report-data/v1\" || 0x00 || identityKey || u8 len(nonce) || nonce)[0..<64]",
        ]
        if let out {
            try Data(evidence.evidence).write(to: URL(fileURLWithPath: out))
            object["evidenceFile"] = out
        } else {
            object["evidence"] = Hex.encode(evidence.evidence)
            object["evidenceBase64"] = Data(evidence.evidence).base64EncodedString()
        }
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        print(String(decoding: json, as: UTF8.self))
    }
}
