/// Requires the evidence's measurements to match an entry the release manifest lists for its platform: every
/// field the entry names must equal the evidence's field. This is how "runs an official release" is decided.
public struct MeasurementPolicy: AttestationCheck {
    public let name = "MeasurementPolicy"
    public let manifest: ReleaseManifest
    public init(manifest: ReleaseManifest) { self.manifest = manifest }

    public func evaluate(_ verified: VerifiedEvidence, context: PolicyContext) -> CheckResult {
        if let release = manifest.release(matching: verified) { _ = release; return .passes }
        let key = ReleaseManifest.primaryMeasurementNames[verified.platform] ?? []
        let shown = key.compactMap { name in verified.measurements[name].map { "\(name)=\($0.hexString)" } }.joined(separator: " ")
        return .fails("\(verified.platform.rawValue) measurement \(shown) is not in any release of the manifest")
    }
}
