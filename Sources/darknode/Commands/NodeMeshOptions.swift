import ArgumentParser
import Enclave
import Foundation
import Logging
import Network
import Node
import Secp256k1
import SecureChannel

/// Options every command that joins the mesh from a data directory shares: which node, which peers' code it
/// accepts.
struct NodeMeshOptions: ParsableArguments {
    @Option(name: .long, help: "The node's data directory (created by `darknode init`).")
    var dataDir: String

    @Option(
        name: .customLong("allow-measurement"),
        help: "A peer enclave measurement (hex) to accept; repeatable. Default: this build's own measurement.")
    var allowedMeasurements: [String] = []

    @Option(name: .long, help: "Override the configured platform: auto | sgx-gramine | configfs-tsm | simulated.")
    var platform: PlatformChoice?

    @Option(name: .long, help: "The attestation policy peers must meet (policy.json; overrides `policy` in [enclave]). Required on hardware.")
    var policy: String?

    @Option(name: .customLong("collateral-dir"), help: "Collateral cache directory: intel/*.json (PCS/PCCS), amd/*.der (AMD KDS).")
    var collateralDirectory: String?

    func validate() throws {
        for measurement in allowedMeasurements where Hex.decode(measurement)?.isEmpty != false {
            throw ValidationError("--allow-measurement must be non-empty hex: \(measurement)")
        }
    }

    /// Opens the data directory (sealed identity, platform) and builds the attested mesh configuration.
    /// `configuredMeasurements` come from the configuration file's `[mesh]`; flags replace them.
    func openNode(logger: Logger, configuredMeasurements: [[UInt8]] = []) throws -> (node: OpenedNode, configuration: MeshConfiguration) {
        let directory = DataDirectory(path: dataDir)
        let configured = try directory.readConfiguration()
        let policyPath = policy ?? configured.policyPath
        // Refused before any hardware device is touched: a node that names a hardware platform needs a policy.
        let choice = platform ?? configured.platform
        if choice != .simulated, choice != .auto, policyPath == nil { throw NodeTrust.Failure.policyRequired(platform: choice.rawValue) }
        // Debug builds only: fake device trees and the sample binding for process tests (FakeHardwareSeam).
        let seam = try FakeHardwareSeam.fromEnvironment()
        let node = try directory.open(platformOverride: platform, environment: try seam?.environment(for: directory), logger: logger)
        // A hardware node judges peers only by its policy file (refusing to start without one); so does a
        // simulated node given one.
        var clock: @Sendable () -> Date = { Date() }
        var expectation: any ReportDataExpectation = BoundReportData()
        if let seam {
            clock = try seam.clock()
            expectation = try seam.expectation()
        }
        if let appraisal = try NodeTrust.appraisal(
            platform: node.platform.kind, policyPath: policyPath,
            collateralDirectory: collateralDirectory ?? node.configuration.collateralDirectory, clock: clock, expectation: expectation)
        {
            guard allowedMeasurements.isEmpty, configuredMeasurements.isEmpty else {
                throw ValidationError("--allow-measurement / allow-measurements do not apply with a policy file: its release manifest names the measurements")
            }
            let configuration = try MeshConfiguration.attested(
                identity: node.identity.privateKey, platform: node.platform, appraisal: appraisal, admitted: [])
            return (node, configuration)
        }
        let chosen = allowedMeasurements.isEmpty ? configuredMeasurements : allowedMeasurements.compactMap { Hex.decode($0) }
        let measurements = chosen.isEmpty ? [node.platform.measurement] : chosen
        // A simulated node can only appraise simulated peers, and accepts them only because it is itself a
        // development node; a hardware node never accepts simulated evidence.
        let policy = MeasurementAllowListPolicy(
            allowedMeasurements: Set(measurements), allowSimulation: node.platform.kind == .simulated)
        let configuration = try MeshConfiguration.attested(
            identity: node.identity.privateKey, platform: node.platform, policy: policy, admitted: [])
        return (node, configuration)
    }
}

/// Parses `HOST:PORT` (IPv6 hosts in brackets: `[::1]:18515`).
struct HostPort: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let host: String
    let port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// The same `HOST:PORT` syntax as the configuration file's addresses (`NodeSettings.Address`).
    init?(argument: String) {
        guard let address = NodeSettings.Address(argument) else { return nil }
        self.init(host: address.host, port: address.port)
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Writes one JSON object per line to standard output (keys sorted), for scripts and tests.
func emitJSONLine(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    // A reader that went away (a supervisor killed) is not a reason to crash mid-write: the line is dropped.
    try? FileHandle.standardOutput.write(contentsOf: data + Data("\n".utf8))
}

extension AuthenticatedPeer {
    var jsonObject: [String: Any] {
        ["identity": Hex.encode(identity.bytes), "platform": platform, "measurement": measurement ?? NSNull()]
    }
}
