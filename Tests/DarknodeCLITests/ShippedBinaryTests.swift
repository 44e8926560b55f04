import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Goal: the shipped `darknode` has no test mode in it: no `net demo|node|soak` subcommand and none of the unattested
/// handshake's code. Method: run the built executable, and search its bytes for names and constants that exist only
/// in the test-only targets (MeshTestKit, darknode-meshtest). The same search over `darknode-meshtest`, which does
/// link them, must find every marker, so a search that cannot find anything would fail here instead of passing.
@Suite("the shipped darknode has no test modes (subprocess, binary contents)", .dedicatedThreadForBlockingWaits)
struct ShippedBinaryTests {
    static var buildDirectory: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent() }
    static var darknode: URL { buildDirectory.appendingPathComponent("darknode") }
    static var meshTest: URL { buildDirectory.appendingPathComponent("darknode-meshtest") }

    /// Strings only the test-only targets contain: the authenticator's type name (in every mangled symbol and in
    /// the type metadata), its handshake transcript domain, and the command-line flag of the test handshake.
    static let testOnlyMarkers = ["UnattestedTestAuthenticator", "darknode/unattested-handshake/v1", "unattested-test-handshake"]

    @Test func darknodeHasNoNetSubcommand() async throws {
        let net = try await ChildProcess.run(Self.darknode, ["net"], timeout: .seconds(60))
        #expect(net.status != 0, "darknode net must not run: \(net.standardOutput)")
        #expect(net.standardError.contains("nexpected argument") && net.standardError.contains("'net'"), "stderr: \(net.standardError)")
        let help = try await ChildProcess.run(Self.darknode, ["--help"], timeout: .seconds(60))
        #expect(help.status == 0)
        #expect(!help.standardOutput.contains("  net "), "help lists no net subcommand: \(help.standardOutput)")
        // The test modes still exist, in the test executable.
        let soakHelp = try await ChildProcess.run(Self.meshTest, ["net", "soak", "--help"], timeout: .seconds(60))
        #expect(soakHelp.status == 0, "darknode-meshtest net soak --help: \(soakHelp.standardError)")
        #expect(soakHelp.standardOutput.contains("--unattested-test-handshake"))
    }

    @Test func darknodeContainsNoneOfTheTestOnlyCode() throws {
        let inMeshTest = try Self.markers(Self.testOnlyMarkers, foundIn: Self.meshTest)
        #expect(inMeshTest == Set(Self.testOnlyMarkers), "the search finds every marker in darknode-meshtest")
        let inDarknode = try Self.markers(Self.testOnlyMarkers, foundIn: Self.darknode)
        #expect(inDarknode.isEmpty, "test-only code in the shipped darknode: \(inDarknode.sorted())")
    }

    /// Which of `markers` occur in the file's bytes, read in overlapping chunks (a marker across a chunk boundary
    /// is still found).
    static func markers(_ markers: [String], foundIn file: URL) throws -> Set<String> {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let overlap = markers.map(\.utf8.count).max()! - 1
        var found: Set<String> = []
        var carry = Data()
        while let chunk = try handle.read(upToCount: 8 << 20), !chunk.isEmpty {
            let window = carry + chunk
            for marker in markers where !found.contains(marker) && contains(window, Array(marker.utf8)) {
                found.insert(marker)
            }
            carry = window.suffix(overlap)
        }
        return found
    }

    /// Whether `needle` occurs in `haystack`: memchr finds each candidate first byte, memcmp checks the rest.
    static func contains(_ haystack: Data, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        return haystack.withUnsafeBytes { (hay: UnsafeRawBufferPointer) -> Bool in
            needle.withUnsafeBytes { (pin: UnsafeRawBufferPointer) -> Bool in
                guard let base = hay.baseAddress, hay.count >= pin.count else { return false }
                let last = hay.count - pin.count
                var offset = 0
                while offset <= last {
                    guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + position, pin.baseAddress!, pin.count) == 0 { return true }
                    offset = position + 1
                }
                return false
            }
        }
    }
}
