// swift-tools-version: 6.1
//
// Darknode: a RenVM-style node that runs inside a TEE.
// Targets are laid out by layer (see docs/ARCHITECTURE.md); a target may import only targets on its own
// layer or below, and the pure protocol layer imports no I/O (no NIO, no GRDB).
import PackageDescription

let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let cryptoExtras: Target.Dependency = .product(name: "_CryptoExtras", package: "swift-crypto")
let protobuf: Target.Dependency = .product(name: "SwiftProtobuf", package: "swift-protobuf")
let x509: Target.Dependency = .product(name: "X509", package: "swift-certificates")
let asn1: Target.Dependency = .product(name: "SwiftASN1", package: "swift-asn1")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let bigInt: Target.Dependency = .product(name: "BigInt", package: "BigInt")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let toml: Target.Dependency = .product(name: "TOMLKit", package: "TOMLKit")

/// Arithmetic-heavy pure modules are optimised in debug builds too: tests run 100,000s of field operations and
/// seeded simulations, which are unusably slow at -Onone. (Root-package unsafe flags are allowed by SwiftPM.)
let optimizedEvenInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Darknode",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "darknode", targets: ["darknode"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/attaswift/BigInt.git", from: "6.0.1"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", exact: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.10.0"),
    ],
    targets: [
        // Layer 0: primitives.
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        .target(name: "Secp256k1", dependencies: ["CSecp256k1", crypto], swiftSettings: optimizedEvenInDebug),
        .target(name: "WireCodec", dependencies: ["Secp256k1", protobuf, crypto], exclude: ["README.md"]),

        // Layer 1: pure protocols (no I/O).
        .target(name: "Attestation", dependencies: ["Secp256k1", crypto, cryptoExtras, x509, asn1], swiftSettings: optimizedEvenInDebug),
        .target(name: "SecureChannel", dependencies: ["Secp256k1", "Attestation", crypto, protobuf]),
        .target(name: "MPC", dependencies: ["Secp256k1", "WireCodec", crypto, protobuf], swiftSettings: optimizedEvenInDebug),
        .target(name: "Bitcoin", dependencies: ["Secp256k1"], swiftSettings: optimizedEvenInDebug),
        .target(name: "Consensus", dependencies: ["Secp256k1", "WireCodec", crypto], swiftSettings: optimizedEvenInDebug),
        // The RenVM application of consensus: blocks, transactions, replicated state and the signing gate.
        .target(name: "Shard", dependencies: ["Secp256k1", "Bitcoin", "Consensus", crypto], swiftSettings: optimizedEvenInDebug),
        // Deterministic simulation kit (pure, no protocol): seeded RNG, integer ratios, virtual time and the seeded
        // virtual-time network. Used by the simulators and by tests that need reproducible randomness.
        .target(name: "SimulationKit", swiftSettings: optimizedEvenInDebug),
        // The consensus simulator (VOPR-style swarm over the kit's network): tests, `darknode simulate-consensus`, bench.
        .target(name: "ConsensusSimulator", dependencies: ["Consensus", "Secp256k1", "SimulationKit"], swiftSettings: optimizedEvenInDebug),
        // Whole-committee MPC runs in one process (LocalNetwork, MPCSimulation): tests, `darknode mpc simulate`, bench.
        .target(name: "MPCSimulator", dependencies: ["MPC", "Secp256k1"], swiftSettings: optimizedEvenInDebug),

        // Layer 2: adapters with I/O.
        .target(name: "Enclave", dependencies: ["Attestation", "Secp256k1", crypto, grdb, logging, toml]),
        .target(name: "SecureChannelNIO", dependencies: ["SecureChannel", nioCore, logging]),
        // JSON-RPC 2.0 over HTTP: RenVM's ren_submitTx / ren_queryTx over a narrow service the node implements.
        .target(name: "API", dependencies: ["Shard", "Bitcoin", "Secp256k1", nioCore, nioPosix, nioHTTP1]),
        .target(name: "Network", dependencies: ["SecureChannelNIO", "SecureChannel", "Enclave", "Attestation", "Secp256k1", "WireCodec", crypto, nioCore, nioPosix, .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), logging]),

        // Layer 3: the node (consensus with the shard application over the attested mesh, sealed persistence).
        .target(name: "Node", dependencies: ["API", "Shard", "Bitcoin", "Consensus", "MPC", "Enclave", "Network", "Secp256k1", logging]),

        // Layer 4: the command-line tool, and the benchmark harness.
        .executableTarget(
            name: "darknode",
            dependencies: ["Secp256k1", "Attestation", "SecureChannel", "MPC", "MPCSimulator", "ConsensusSimulator", "SimulationKit", "Bitcoin", "Enclave", "Network", "Shard", "Node", "API", argumentParser, logging, crypto, nioPosix,
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            // The fake-hardware process-test seam (FakeHardwareSeam) exists in debug builds only, never in releases.
            swiftSettings: [.define("DARKNODE_TEST_SEAMS", .when(configuration: .debug))],
            plugins: ["BuildInfoPlugin"]
        ),
        // Test-only executable (no product lists it, so `make release` never builds it): the mesh's multi-process test
        // modes, `darknode-meshtest net demo|node|soak`, with the unattested handshake the shipped `darknode` lacks.
        .executableTarget(
            name: "darknode-meshtest",
            dependencies: ["MeshTestKit", "Network", "Enclave", "SecureChannel", "Secp256k1", argumentParser, logging, nioPosix]
        ),
        .executableTarget(
            name: "bench",
            dependencies: ["Secp256k1", "CSecp256k1", "Attestation", "SecureChannel", "SecureChannelNIO", "Consensus", "ConsensusSimulator", "MPC", "MPCSimulator", "SimulationKit", "Bitcoin", "Enclave", "Network", "MeshTestKit", "Shard", "Node", crypto, nioCore, nioPosix, nioSSL, .product(name: "NIOTLS", package: "swift-nio"), grdb, .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]
        ),

        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),

        // Tests mirror modules.
        // Test-only helpers: where the shared test data is, and how to call the Python oracles.
        .target(name: "TestSupport"),
        // The mesh's test-only parts: the unattested handshake and seeded identity keys (tests, darknode-meshtest, bench).
        .target(name: "MeshTestKit", dependencies: ["Network", "Secp256k1", "SimulationKit", crypto, nioCore]),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"]),
        .testTarget(name: "Secp256k1Tests", dependencies: ["Secp256k1", "CSecp256k1", "TestSupport", bigInt]),
        .testTarget(name: "WireCodecTests", dependencies: ["WireCodec", "Secp256k1", "TestSupport", protobuf]),
        .testTarget(name: "NetworkTests", dependencies: ["Network", "MeshTestKit", "SecureChannel", "Enclave", "Attestation", "TestSupport", "SimulationKit", logging, "Secp256k1", "WireCodec", crypto, nioCore, nioPosix, .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        .testTarget(
            name: "MPCTests", dependencies: ["MPC", "MPCSimulator", "Secp256k1", "WireCodec", "SimulationKit", "TestSupport", crypto],
            swiftSettings: optimizedEvenInDebug),
        .testTarget(name: "BitcoinTests", dependencies: ["Bitcoin", "Secp256k1", "TestSupport", "SimulationKit"]),
        .testTarget(name: "EnclaveTests", dependencies: ["Enclave", "Attestation", "Secp256k1", "TestSupport", crypto, grdb, logging]),
        // Runs the built `darknode` executable as a subprocess (end-to-end `init` / `attest show` / `attest verify`).
        .testTarget(name: "DarknodeCLITests", dependencies: ["Attestation", "Secp256k1", "Bitcoin", "Shard", "TestSupport", crypto]),
        .testTarget(name: "AttestationTests", dependencies: ["Attestation", "Secp256k1", "TestSupport", "SimulationKit", crypto, asn1, x509]),
        .testTarget(name: "SecureChannelTests", dependencies: ["SecureChannel", "Attestation", "Secp256k1", "SimulationKit", "TestSupport", crypto, protobuf]),
        .testTarget(name: "SecureChannelNIOTests", dependencies: ["SecureChannelNIO", "SecureChannel", "Secp256k1", "SimulationKit", crypto, nioCore, nioPosix, nioEmbedded]),
        .testTarget(name: "ShardTests", dependencies: ["Shard", "Bitcoin", "Consensus", "Secp256k1", "TestSupport", crypto], swiftSettings: optimizedEvenInDebug),
        .testTarget(name: "NodeTests", dependencies: ["Node", "MeshTestKit", "Shard", "MPC", "Bitcoin", "Consensus", "Enclave", "Network", "Secp256k1", "TestSupport", crypto, nioPosix]),
        .testTarget(name: "APITests", dependencies: ["API", "Shard", "Bitcoin", "Secp256k1", "TestSupport"]),
        // Coverage-guided fuzz targets (Targets/, also compiled into the libFuzzer binary by scripts/fuzz/build) and the
        // replay of their seeds and saved crash inputs (Fuzz/regressions).
        .testTarget(
            name: "FuzzTargetTests",
            dependencies: ["Attestation", "SecureChannel", "Network", "Consensus", "MPC", "MPCSimulator", "Bitcoin", "Shard", "API", "Secp256k1", "WireCodec", "TestSupport", crypto, protobuf]),
        .testTarget(name: "ConsensusTests", dependencies: ["Consensus", "ConsensusSimulator", "SimulationKit", "Secp256k1", "TestSupport"], swiftSettings: optimizedEvenInDebug),
    ],
    swiftLanguageModes: [.v6]
)
