import Foundation
import Testing
import TestSupport

@testable import SecureChannel

/// Replays every fuzz target's seeds and every input kept in Fuzz/regressions/<target>/ (crashes, timeouts and
/// findings from libFuzzer runs, see docs/fuzzing.md). A crash fails the test process; a broken invariant fails the
/// test with the target's finding.
@Suite(.dedicatedThread) struct FuzzRegressionTests {
    static let regressions = TestData.repositoryRoot.appendingPathComponent("Fuzz/regressions")

    static func savedInputs(_ target: String) throws -> [(String, [UInt8])] {
        let dir = regressions.appendingPathComponent(target)
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted().map { name in
            (name, [UInt8](try Data(contentsOf: dir.appendingPathComponent(name))))
        }
    }

    @Test(arguments: FuzzTargets.names)
    func seedsAndSavedInputsReplay(_ name: String) async throws {
        let target = try FuzzTargets.make(name, fixtures: FuzzFixtures(root: TestData.root))
        #expect(!target.seeds.isEmpty, "target \(name) has no seeds")
        let inputs = target.seeds.enumerated().map { ("seed \($0.offset)", $0.element) }
            + (try Self.savedInputs(name)).map { ("Fuzz/regressions/\(name)/\($0.0)", $0.1) }
        // On a thread of its own, as under libFuzzer: a target may block on async work (jsonrpc-body), which must not
        // hold one of the few cooperative-pool threads the tests run on.
        let findings = await Self.onOwnThread { inputs.compactMap { input -> String? in
            do { try target.run(input.1); return nil } catch { return "\(input.0): \(error)" }
        } }
        for finding in findings { Issue.record("\(finding)") }
    }

    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// Every directory under Fuzz/regressions names a target (a misspelt one would never be replayed).
    @Test func regressionDirectoriesNameTargets() throws {
        guard FileManager.default.fileExists(atPath: Self.regressions.path) else { return }
        let dirs = try FileManager.default.contentsOfDirectory(atPath: Self.regressions.path).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: Self.regressions.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
        for dir in dirs { #expect(FuzzTargets.names.contains(dir), "Fuzz/regressions/\(dir) is not a fuzz target") }
    }

    /// The EKEP targets' completion check is reachable: their seed is a whole honest handshake, which completes.
    @Test(arguments: [EKEPHandshaker.Role.server, .client])
    func ekepSeedCompletesTheHandshake(_ role: EKEPHandshaker.Role) throws {
        let pair = try ChannelFuzzTargets.Pair()
        let (fromClient, fromServer) = pair.honestStreams()
        let stream = role == .server ? fromClient : fromServer
        let (outcome, delivered) = ChannelFuzzTargets.deliverFramewise(stream, to: role == .server ? pair.server() : pair.client())
        #expect(delivered == stream.count)
        guard case .completed(let result) = outcome else {
            Issue.record("honest \(role) stream did not complete: \(outcome)")
            return
        }
        #expect(result.unusedBytes.isEmpty)
    }
}
