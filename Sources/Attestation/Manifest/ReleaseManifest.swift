import Foundation
import Secp256k1

/// The list of official releases and, per platform, the measurements each release produces.
///
/// Body JSON (the exact bytes that are signed; see `SignedReleaseManifest`):
///
///     {"format": 1,
///      "releases": [{"version": "1.0.0",
///                    "platforms": {"sgx": [{"mrenclave": "<hex>", "mrsigner": "<hex>"}],
///                                  "tdx": [{"mrtd": "<hex>", "rtmr0": "<hex>", "rtmr1": "<hex>", "rtmr2": "<hex>",
///                                           "rtmr3": "open: <why this register is not pinned>"}],
///                                  "sev-snp": [{"measurement": "<hex>"}],
///                                  "nitro": [{"pcr0": "<hex>", "pcr1": "<hex>", "pcr2": "<hex>"}],
///                                  "simulated": [{"measurement": "<hex>"}]}}]}
///
/// An entry matches evidence when every field it names equals the evidence's measurement of that name (names
/// as in `VerifiedEvidence.measurements`); an entry must name the platform's primary measurement(s).
///
/// A TDX entry must also say, for each of RTMR0-3, either its value or `"open: <reason>"` (issue 17): MRTD covers
/// only the TD's initial image (the firmware), while the kernel, command line and anything measured at run time
/// land in the RTMRs, so an entry naming MRTD alone would admit any OS on that firmware. An open register is not
/// compared; its reason stays in the signed body for whoever audits the manifest.
public struct ReleaseManifest: Sendable, Hashable {
    public struct Release: Sendable, Hashable {
        public let version: String
        public let measurements: [AttestationPlatform: [[String: [UInt8]]]]
    }

    public static let currentFormat = 1
    public static let maximumSize = 1 << 20
    /// The fields every entry of a platform must name: they identify the code.
    public static let primaryMeasurementNames: [AttestationPlatform: [String]] = [
        .sgx: ["mrenclave"], .tdx: ["mrtd"], .sevSNP: ["measurement"], .nitro: ["pcr0", "pcr1", "pcr2"], .simulated: ["measurement"],
    ]

    /// The TD's run-time measurement registers, each pinned or explicitly left open in a TDX entry.
    static let tdxRegisters = ["rtmr0", "rtmr1", "rtmr2", "rtmr3"]

    public let releases: [Release]
    /// The exact body bytes.
    public let body: [UInt8]

    public init(body: [UInt8]) throws(ReleaseManifestError) {
        guard body.count <= Self.maximumSize else { throw .malformed("body larger than 1 MiB") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { throw .malformed("body is not a JSON object") }
        guard let format = object["format"] as? Int else { throw .malformed("missing format") }
        guard format == Self.currentFormat else { throw .unsupportedFormat(format) }
        guard let rawReleases = object["releases"] as? [[String: Any]] else { throw .malformed("missing releases") }
        var releases: [Release] = []
        var versions = Set<String>()
        for raw in rawReleases {
            guard let version = raw["version"] as? String, !version.isEmpty else { throw .malformed("release without version") }
            guard versions.insert(version).inserted else { throw .malformed("duplicate release \(version)") }
            guard let platforms = raw["platforms"] as? [String: Any] else { throw .malformed("release \(version) without platforms") }
            var measurements: [AttestationPlatform: [[String: [UInt8]]]] = [:]
            for (platformName, entriesValue) in platforms {
                guard let platform = AttestationPlatform(rawValue: platformName) else { throw .unknownPlatform(platformName) }
                guard let entries = entriesValue as? [[String: Any]] else { throw .malformed("\(version)/\(platformName) is not a list of objects") }
                measurements[platform] = try entries.map { entry throws(ReleaseManifestError) in
                    var fields: [String: [UInt8]] = [:]
                    var open: Set<String> = []
                    for (name, value) in entry {
                        if platform == .tdx, Self.tdxRegisters.contains(name.lowercased()), let text = value as? String, text.hasPrefix("open:") {
                            guard !text.dropFirst(5).allSatisfy(\.isWhitespace) else {
                                throw .invalidMeasurement(release: version, platform: platformName, field: "\(name) (open without a reason)")
                            }
                            open.insert(name.lowercased())
                            continue
                        }
                        guard let hex = value as? String, let bytes = Hex.decode(hex), !bytes.isEmpty else {
                            throw .invalidMeasurement(release: version, platform: platformName, field: name)
                        }
                        fields[name.lowercased()] = bytes
                    }
                    for required in Self.primaryMeasurementNames[platform] ?? [] where fields[required] == nil {
                        throw .invalidMeasurement(release: version, platform: platformName, field: "\(required) (required)")
                    }
                    if platform == .tdx {
                        for register in Self.tdxRegisters where fields[register] == nil && !open.contains(register) {
                            throw .invalidMeasurement(release: version, platform: platformName,
                                                      field: "\(register) (pin it, or write \"open: <reason>\")")
                        }
                    }
                    return fields
                }
            }
            releases.append(Release(version: version, measurements: measurements))
        }
        self.releases = releases
        self.body = body
    }

    /// The first release with an entry that `verified` matches.
    public func release(matching verified: VerifiedEvidence) -> Release? {
        releases.first { release in
            (release.measurements[verified.platform] ?? []).contains { entry in
                entry.allSatisfy { name, value in verified.measurements[name] == value }
            }
        }
    }
}

/// A release manifest with k-of-m secp256k1 signatures by release keys.
///
/// Envelope JSON: `{"body": "<the body JSON as a string>", "signatures": [{"key": "<33-byte compressed hex>",
/// "signature": "<64-byte compact r‖s hex, low-S>"}]}`. The body travels as a string so the signed bytes are exactly
/// the bytes received (no re-encoding). Each signature is over
/// `SHA-256("darknode/release-manifest/v1" ‖ 0x00 ‖ body bytes)`.
public struct SignedReleaseManifest: Sendable, Hashable {
    public struct Signature: Sendable, Hashable {
        public let key: PublicKey
        public let signature: ECDSASignature
    }

    public static let domain: [UInt8] = Array("darknode/release-manifest/v1".utf8)

    public let body: [UInt8]
    public let signatures: [Signature]

    public init(body: [UInt8], signatures: [Signature]) {
        self.body = body
        self.signatures = signatures
    }

    public init(json: [UInt8]) throws(ReleaseManifestError) {
        guard json.count <= ReleaseManifest.maximumSize * 2 else { throw .malformed("manifest larger than 2 MiB") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else { throw .malformed("not a JSON object") }
        guard let body = object["body"] as? String else { throw .malformed("missing body string") }
        guard let rawSignatures = object["signatures"] as? [[String: Any]] else { throw .malformed("missing signatures") }
        var signatures: [Signature] = []
        for raw in rawSignatures {
            guard let keyHex = raw["key"] as? String, let keyBytes = Hex.decode(keyHex), keyBytes.count == 33,
                  let key = try? PublicKey(encoded: keyBytes) else { throw .malformed("signature with an invalid key") }
            guard let sigHex = raw["signature"] as? String, let sigBytes = Hex.decode(sigHex), let sig = try? ECDSASignature(compact: sigBytes) else {
                throw .malformed("signature by \(keyHex) is not 64-byte compact hex")
            }
            signatures.append(Signature(key: key, signature: sig))
        }
        self.init(body: Array(body.utf8), signatures: signatures)
    }

    public static func digest(body: [UInt8]) -> [UInt8] {
        BitcoinHash.sha256(domain + [0] + body)
    }

    /// Adds a signature by `key` over the body.
    public func signed(by key: PrivateKey) throws(ReleaseManifestError) -> SignedReleaseManifest {
        guard let sig = try? key.signature(for: Self.digest(body: body)) else { throw .malformed("signing failed") }
        return SignedReleaseManifest(body: body, signatures: signatures.filter { $0.key != key.publicKey } + [Signature(key: key.publicKey, signature: sig)])
    }

    /// The envelope JSON.
    public var json: [UInt8] {
        let object: [String: Any] = [
            "body": String(decoding: body, as: UTF8.self),
            "signatures": signatures.map { ["key": Hex.encode($0.key.compressed), "signature": Hex.encode($0.signature.compact)] },
        ]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data())
    }

    /// Checks that at least `threshold` distinct keys of `releaseKeys` signed the body, that every signature is
    /// valid, and that no unknown key signed; then parses the body.
    public func verify(releaseKeys: [PublicKey], threshold: Int) throws(ReleaseManifestError) -> ReleaseManifest {
        guard threshold >= 1, threshold <= releaseKeys.count else { throw .invalidThreshold(threshold: threshold, keys: releaseKeys.count) }
        let digest = Self.digest(body: body)
        var signers = Set<[UInt8]>()
        for s in signatures {
            let id = s.key.compressed
            guard releaseKeys.contains(s.key) else { throw .unknownSigner(Hex.encode(id)) }
            guard signers.insert(id).inserted else { throw .duplicateSigner(Hex.encode(id)) }
            guard s.key.isValidSignature(s.signature, for: digest) else { throw .signatureInvalid(Hex.encode(id)) }
        }
        guard signers.count >= threshold else { throw .thresholdNotMet(valid: signers.count, required: threshold) }
        return try ReleaseManifest(body: body)
    }
}

/// Why a release manifest was refused.
public enum ReleaseManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The JSON does not have the documented shape.
    case malformed(String)
    /// The body's `format` is not one this code understands.
    case unsupportedFormat(Int)
    /// A platform name is not one of sgx, tdx, sev-snp, nitro, simulated.
    case unknownPlatform(String)
    /// A measurement value is not hex, or a required measurement is missing.
    case invalidMeasurement(release: String, platform: String, field: String)
    /// A signature is by a key outside the trusted release keys.
    case unknownSigner(String)
    /// The same key signed twice (it would otherwise count twice toward the threshold).
    case duplicateSigner(String)
    /// A signature does not verify over the body.
    case signatureInvalid(String)
    /// Fewer than `required` trusted keys signed.
    case thresholdNotMet(valid: Int, required: Int)
    /// The threshold is not in 1...number of keys.
    case invalidThreshold(threshold: Int, keys: Int)

    public var description: String {
        switch self {
        case .malformed(let d): return "release manifest malformed: \(d)"
        case .unsupportedFormat(let f): return "release manifest format \(f) is not supported"
        case .unknownPlatform(let p): return "release manifest names unknown platform \(p)"
        case .invalidMeasurement(let r, let p, let f): return "release \(r) \(p): invalid measurement \(f)"
        case .unknownSigner(let k): return "release manifest signed by unknown key \(k)"
        case .duplicateSigner(let k): return "release manifest signed twice by \(k)"
        case .signatureInvalid(let k): return "release manifest signature by \(k) is invalid"
        case .thresholdNotMet(let v, let r): return "release manifest has \(v) valid release-key signatures, needs \(r)"
        case .invalidThreshold(let t, let k): return "threshold \(t) is not within 1...\(k)"
        }
    }
}
