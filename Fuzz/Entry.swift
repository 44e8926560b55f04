// The libFuzzer entry points for every target in Tests/FuzzTargetTests/Targets (built by scripts/fuzz/build, run by
// scripts/fuzz/run). One binary serves all targets: DARKNODE_FUZZ_TARGET names the target,
// (`list` prints every name), DARKNODE_FUZZ_FIXTURES the directory of real samples (Tests/Fixtures), and DARKNODE_FUZZ_WRITE_SEEDS, when set, a
// directory the target's seeds are written to before fuzzing starts.
import Foundation

nonisolated(unsafe) var selectedTarget: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let environment = ProcessInfo.processInfo.environment
    if environment["DARKNODE_FUZZ_TARGET"] == "list" {
        print(FuzzTargets.names.joined(separator: "\n"))
        exit(0)
    }
    guard let name = environment["DARKNODE_FUZZ_TARGET"], let fixtures = environment["DARKNODE_FUZZ_FIXTURES"] else {
        fatalError("set DARKNODE_FUZZ_TARGET (one of \(FuzzTargets.names.joined(separator: ", "))) and DARKNODE_FUZZ_FIXTURES")
    }
    do {
        let target = try FuzzTargets.make(name, fixtures: FuzzFixtures(root: URL(fileURLWithPath: fixtures)))
        if let dir = environment["DARKNODE_FUZZ_WRITE_SEEDS"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (i, seed) in target.seeds.enumerated() {
                try Data(seed).write(to: URL(fileURLWithPath: dir).appendingPathComponent(String(format: "seed-%03d", i)))
            }
        }
        selectedTarget = target
    } catch {
        fatalError("cannot set up fuzz target \(name): \(error)")
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let target = selectedTarget else { fatalError("LLVMFuzzerInitialize did not run") }
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try target.run(bytes)
    } catch {
        // libFuzzer saves the input that trapped; the finding is the reason printed above its report.
        fatalError("fuzz finding: \(error)")
    }
    return 0
}
