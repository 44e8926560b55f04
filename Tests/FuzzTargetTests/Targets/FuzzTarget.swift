import Foundation

/// One coverage-guided fuzz target: a parser (and what follows it) that takes hostile bytes.
///
/// The same definitions serve two hosts: the libFuzzer binary built by `scripts/fuzz/build` (Fuzz/Entry.swift), which
/// traps on a finding so libFuzzer saves the input, and `FuzzRegressionTests`, which replays the seeds and every
/// saved input under Swift Testing. A target is used by one thread at a time (hence `@unchecked Sendable`: it may be
/// handed to the thread that runs it). `run` must return normally for every input; a typed parse error is an ordinary
/// rejection and is swallowed inside the target. It throws only a `FuzzFinding`: an invariant the input broke.
struct FuzzTarget: @unchecked Sendable {
    let name: String
    /// Real samples (from Tests/Fixtures) or honest encodings the target starts from.
    let seeds: [[UInt8]]
    let run: ([UInt8]) throws(FuzzFinding) -> Void
}

/// An invariant broken by an accepted input (a crash is libFuzzer's own finding; this is the semantic kind).
struct FuzzFinding: Error, CustomStringConvertible {
    let target: String
    let detail: String
    var description: String { "\(target): \(detail)" }
}

/// Where the targets read their real samples: Tests/Fixtures of this repository (or another directory with the same
/// layout).
struct FuzzFixtures {
    let root: URL

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "fuzz fixture \(path) is missing or unreadable" }
    }

    func bytes(_ relative: String) throws -> [UInt8] {
        let url = root.appendingPathComponent(relative)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw Missing(path: url.path) }
        return [UInt8](data)
    }

    func files(in relative: String, suffix: String) throws -> [[UInt8]] {
        let dir = root.appendingPathComponent(relative)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(suffix) }.sorted()
        return try names.map { try bytes(relative + "/" + $0) }
    }
}

/// A target's name and how to build it from the fixtures.
typealias FuzzTargetBuilder = (name: String, make: @Sendable (FuzzFixtures) throws -> FuzzTarget)

/// Every target, by name. Each builder reads its fixtures once.
enum FuzzTargets {
    static let builders: [FuzzTargetBuilder] =
        AttestationFuzzTargets.builders + ChannelFuzzTargets.builders + ProtocolFuzzTargets.builders
        + BitcoinFuzzTargets.builders + ShardFuzzTargets.builders + APIFuzzTargets.builders

    static var names: [String] { builders.map(\.name) }

    struct UnknownTarget: Error, CustomStringConvertible {
        let name: String
        var description: String { "unknown fuzz target \(name); known: \(FuzzTargets.names.joined(separator: ", "))" }
    }

    static func make(_ name: String, fixtures: FuzzFixtures) throws -> FuzzTarget {
        guard let builder = builders.first(where: { $0.name == name }) else { throw UnknownTarget(name: name) }
        return try builder.make(fixtures)
    }
}

/// A small seeded generator for building honest seed messages (deterministic, so seeds are stable across runs).
struct FuzzSeedRNG: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
