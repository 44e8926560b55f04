import ArgumentParser
import Foundation

/// `darknode-meshtest`: the mesh's test modes (`net demo`, `net node`, `net soak`), kept out of the shipped
/// `darknode`. It is an executable target that no product lists, so `make release` never builds it; `swift build`
/// and `swift test` build it next to `darknode`, where the process tests find it.
@main
struct DarknodeMeshTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "darknode-meshtest",
        abstract: "TEST ONLY: multi-process mesh demos and soak nodes (unattested handshake available).",
        subcommands: [NetCommand.self])
}

/// Where this executable is, so the demo can start its node processes from the same file.
enum MeshTestExecutable {
    /// From /proc/self/exe (not argv[0], which the caller controls).
    static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
