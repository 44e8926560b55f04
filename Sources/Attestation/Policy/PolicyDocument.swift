import Foundation
import Secp256k1

/// A policy written as JSON (what `darknode attest verify --policy FILE` reads), turned into an
/// `AttestationPolicy` plus the report-data binding to expect. Every key is optional:
///
///     {"allowDebug": false, "allowSimulation": false,
///      "minimumTCBStatus": "UpToDate",
///      "tcbGrace": [{"status": "SWHardeningNeeded", "until": "2026-01-31T00:00:00Z"}],
///      "requireIntelCollateral": true,
///      "maximumAgeSeconds": 86400,
///      "releaseManifest": {"body": "…", "signatures": […]},      (a SignedReleaseManifest envelope)
///      "releaseKeys": ["02…"], "releaseThreshold": 2,
///      "reportDataBinding": {"identityKey": "02…", "nonce": "<hex>"},
///      "snp": {"minimumReportedTCB": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
///              "maximumVMPL": 0, "allowMigrationAgent": false, "allowSMT": true, "requireSingleSocket": false,
///              "requireCRL": true}}                                   (requireCRL: an AMD KDS CRL must have been checked)
public struct PolicyDocument: Sendable {
    public let policy: AttestationPolicy
    public let binding: ReportDataBinding?

    public init(json: [UInt8]) throws(PolicyDocumentError) {
        guard json.count <= 4 << 20 else { throw .invalid("policy larger than 4 MiB") }
        guard let o = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else { throw .invalid("not a JSON object") }
        let known: Set<String> = ["allowDebug", "allowSimulation", "minimumTCBStatus", "tcbGrace", "requireIntelCollateral", "maximumAgeSeconds",
                                  "releaseManifest", "releaseKeys", "releaseThreshold", "reportDataBinding", "snp"]
        // An unknown key is most likely a typo that would silently weaken the policy.
        if let unknown = o.keys.first(where: { !known.contains($0) }) { throw .invalid("unknown key \(unknown)") }
        func bool(_ key: String, _ fallback: Bool) throws(PolicyDocumentError) -> Bool {
            guard let v = o[key] else { return fallback }
            guard let b = v as? Bool else { throw .invalid("\(key) must be true or false") }
            return b
        }
        var minimum = TCBStatus.upToDate
        if let raw = o["minimumTCBStatus"] {
            guard let s = raw as? String, let status = TCBStatus(rawValue: s), status != .notEvaluated else { throw .invalid("minimumTCBStatus is not a TCB status") }
            minimum = status
        }
        var grace: [TCBLevelPolicy.Grace] = []
        if let raw = o["tcbGrace"] {
            guard let list = raw as? [[String: Any]] else { throw .invalid("tcbGrace must be a list") }
            for entry in list {
                guard let s = entry["status"] as? String, let status = TCBStatus(rawValue: s), status != .notEvaluated, status != .revoked,
                      let u = entry["until"] as? String, let until = RFC3339.parse(u) else { throw .invalid("tcbGrace entries need status and until (RFC 3339)") }
                grace.append(.init(status: status, until: until))
            }
        }
        var maximumAge: TimeInterval? = nil
        if let raw = o["maximumAgeSeconds"] {
            guard let n = raw as? Int, n > 0 else { throw .invalid("maximumAgeSeconds must be a positive integer") }
            maximumAge = TimeInterval(n)
        }
        var manifest: ReleaseManifest? = nil
        if let raw = o["releaseManifest"] {
            guard JSONSerialization.isValidJSONObject(raw), let data = try? JSONSerialization.data(withJSONObject: raw) else { throw .invalid("releaseManifest must be an object") }
            guard let keysRaw = o["releaseKeys"] as? [String], let threshold = o["releaseThreshold"] as? Int else {
                throw .invalid("releaseManifest needs releaseKeys and releaseThreshold")
            }
            var keys: [PublicKey] = []
            for k in keysRaw {
                guard let b = Hex.decode(k), let key = try? PublicKey(encoded: b) else { throw .invalid("release key \(k) is not a secp256k1 public key") }
                keys.append(key)
            }
            do {
                manifest = try SignedReleaseManifest(json: Array(data)).verify(releaseKeys: keys, threshold: threshold)
            } catch {
                throw .manifest(error)
            }
        }
        var binding: ReportDataBinding? = nil
        if let raw = o["reportDataBinding"] {
            guard let b = raw as? [String: Any], let k = b["identityKey"] as? String, let kb = Hex.decode(k), let key = try? PublicKey(encoded: kb),
                  let n = b["nonce"] as? String, let nonce = Hex.decode(n), nonce.count <= ReportDataBinding.maximumNonceLength
            else { throw .invalid("reportDataBinding needs identityKey (secp256k1 hex) and nonce (hex, ≤ 64 bytes)") }
            binding = ReportDataBinding(identityKey: key, nonce: nonce)
        }
        var snp = SNPPolicy()
        if let raw = o["snp"] {
            guard let s = raw as? [String: Any] else { throw .invalid("snp must be an object") }
            let snpKeys: Set<String> = ["minimumReportedTCB", "maximumVMPL", "allowMigrationAgent", "allowSMT", "requireSingleSocket", "requireCRL"]
            if let unknown = s.keys.first(where: { !snpKeys.contains($0) }) { throw .invalid("unknown key snp.\(unknown)") }
            func flag(_ key: String, _ fallback: Bool) throws(PolicyDocumentError) -> Bool {
                guard let v = s[key] else { return fallback }
                guard let b = v as? Bool else { throw .invalid("snp.\(key) must be true or false") }
                return b
            }
            snp.allowMigrationAgent = try flag("allowMigrationAgent", false)
            snp.allowSMT = try flag("allowSMT", true)
            snp.requireSingleSocket = try flag("requireSingleSocket", false)
            snp.requireCRL = try flag("requireCRL", true)
            if let v = s["maximumVMPL"] {
                guard let n = v as? Int, (0...3).contains(n) else { throw .invalid("snp.maximumVMPL must be 0...3") }
                snp.maximumVMPL = UInt32(n)
            }
            if let t = s["minimumReportedTCB"] {
                guard let f = t as? [String: Any], Set(f.keys) == ["bootloader", "tee", "snp", "microcode"],
                      let bl = f["bootloader"] as? Int, let tee = f["tee"] as? Int, let sn = f["snp"] as? Int, let uc = f["microcode"] as? Int,
                      [bl, tee, sn, uc].allSatisfy({ (0...255).contains($0) })
                else { throw .invalid("snp.minimumReportedTCB needs bootloader, tee, snp and microcode (0...255)") }
                snp.minimumReportedTCB = .init(bootloader: UInt8(bl), tee: UInt8(tee), snp: UInt8(sn), microcode: UInt8(uc))
            }
        }
        policy = AttestationPolicy(
            manifest: manifest, allowDebug: try bool("allowDebug", false), minimumTCB: minimum, grace: grace,
            requireIntelCollateral: try bool("requireIntelCollateral", true), maximumAge: maximumAge,
            allowSimulation: try bool("allowSimulation", false), requireBinding: binding != nil, snp: snp)
        self.binding = binding
    }
}

/// Why a policy document was refused.
public enum PolicyDocumentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The JSON does not have the documented shape.
    case invalid(String)
    /// The embedded release manifest failed verification.
    case manifest(ReleaseManifestError)

    public var description: String {
        switch self {
        case .invalid(let d): return "policy invalid: \(d)"
        case .manifest(let e): return "policy: \(e)"
        }
    }
}
