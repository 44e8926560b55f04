import Foundation
import Testing
import TestSupport

/// `darknode run` on a hardware platform without an attestation policy refuses to start (issue 17): a clear
/// error naming what is missing, exit status ≠ 0, before any device is opened.
@Suite("darknode run needs a policy on hardware (subprocess)", .dedicatedThreadForBlockingWaits)
struct RunPolicyCLITests {
    @Test(arguments: ["configfs-tsm", "sgx-gramine"])
    func hardwareRunWithoutAPolicyRefusesToStart(platform: String) throws {
        let work = try AttestCLITests.Workspace()
        let node = try work.initializedNode(named: "node")
        let result = try AttestCLITests.run(
            AttestCLITests.darknode, ["run", "--data-dir", node.directory, "--platform", platform, "--listen", "127.0.0.1:0"])
        #expect(result.status != 0, "exit status \(result.status)")
        #expect(result.standardError.contains("a \(platform) node needs an attestation policy (policy.json)"), "stderr: \(result.standardError)")
        #expect(!result.standardOutput.contains("\"listening\""))
    }

    /// A policy file that names one report-data binding for every peer is refused too (each handshake has its own).
    @Test func aPolicyPinningOneBindingIsRefused() throws {
        let work = try AttestCLITests.Workspace()
        let node = try work.initializedNode(named: "node")
        let policy = work.file("policy.json")
        try Data(#"{"allowSimulation": true, "reportDataBinding": {"identityKey": "\#(node.identityKey)", "nonce": "00"}}"#.utf8)
            .write(to: URL(fileURLWithPath: policy))
        let result = try AttestCLITests.run(
            AttestCLITests.darknode, ["run", "--data-dir", node.directory, "--policy", policy, "--listen", "127.0.0.1:0"])
        #expect(result.status != 0, "exit status \(result.status)")
        #expect(result.standardError.contains("reportDataBinding is per handshake"), "stderr: \(result.standardError)")
    }
}
