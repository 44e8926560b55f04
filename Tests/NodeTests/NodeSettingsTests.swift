import Enclave
import Network
import Secp256k1
import Testing

@testable import Node

/// `darknode.toml`'s node sections: what `darknode init` and `darknode localnet` write parses back to the same
/// settings, and every kind of mistake is a typed error naming the key.
@Suite struct NodeSettingsTests {
    static let peer = PeerID(PrivateKey.generate().publicKey)

    @Test func writtenFilesParseBack() throws {
        // The file `darknode init` writes: [enclave] plus the node sections as commented examples.
        let initial = EnclaveConfiguration().defaultFileText + "\n" + NodeSettings().fileText
        #expect(try NodeSettings.parse(initial) == NodeSettings())

        var settings = NodeSettings()
        settings.listen = .init(host: "::1", port: 18_515)
        settings.peers = [.init(host: "10.0.0.2", port: 1), .init(host: "node-3.example", port: 65_535)]
        settings.admitted = [Self.peer]
        settings.admitFile = "/etc/darknode/admitted.txt"
        settings.allowedMeasurements = [[0xAB, 0xCD]]
        settings.reattestationInterval = .seconds(30)
        settings.genesisPath = "/etc/darknode/genesis.json"
        settings.idleBlockInterval = .zero
        settings.rpcListen = .init(host: "127.0.0.1", port: 0)
        settings.statusInterval = .milliseconds(1_500)
        let text = EnclaveConfiguration(platform: .simulated).defaultFileText + "\n" + settings.fileText
        #expect(try NodeSettings.parse(text) == settings)
        #expect(try EnclaveConfiguration.parse(text).platform == .simulated)
        #expect(text.contains("listen = \"[::1]:18515\""))
        // The file's keys keep their unit: whole milliseconds.
        #expect(text.contains("reattestation-interval-ms = 30000"))
        #expect(text.contains("idle-block-interval-ms = 0"))
        #expect(text.contains("status-interval-ms = 1500"))
    }

    @Test func mistakesAreTypedErrorsNamingTheKey() {
        let cases: [(String, ConfigurationError)] = [
            ("[meshh]\nlisten = \"a:1\"\n", .unknownSection("meshh")),
            ("[mesh]\nlistn = \"a:1\"\n", .unknownKey(section: "mesh", key: "listn")),
            ("[mesh]\nlisten = 18515\n", .wrongType(key: "mesh.listen", expected: "a string", found: "integer")),
            ("[mesh]\nlisten = \"localhost\"\n", .invalidValue(key: "mesh.listen", value: "\"localhost\"", expected: "HOST:PORT")),
            ("[mesh]\nlisten = \"a:70000\"\n", .invalidValue(key: "mesh.listen", value: "\"a:70000\"", expected: "HOST:PORT")),
            ("[mesh]\npeers = \"a:1\"\n", .wrongType(key: "mesh.peers", expected: "an array of strings", found: "string")),
            ("[mesh]\npeers = [\"a:1\", 2]\n", .wrongType(key: "mesh.peers", expected: "an array of strings", found: "an array holding a integer")),
            ("[mesh]\nadmit = [\"02ab\"]\n",
             .invalidValue(key: "mesh.admit", value: "\"02ab\"", expected: "a compressed secp256k1 key in hex (33 bytes)")),
            ("[mesh]\nreattestation-interval-ms = 5\n", .invalidValue(key: "mesh.reattestation-interval-ms", value: "5", expected: "100…86400000")),
            ("[shard]\nidle-block-interval-ms = -1\n", .invalidValue(key: "shard.idle-block-interval-ms", value: "-1", expected: "0…86400000")),
            ("[rpc]\nlisten = \"[::1]\"\n", .invalidValue(key: "rpc.listen", value: "\"[::1]\"", expected: "HOST:PORT")),
            ("[log]\nstatus-interval-ms = 1.5\n", .wrongType(key: "log.status-interval-ms", expected: "an integer", found: "float")),
            ("listen = \"a:1\"\n", .notASection("listen")),
            ("[enclave]\nplatform = \"tpm\"\n",
             .invalidValue(key: "enclave.platform", value: "\"tpm\"", expected: PlatformChoice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " | "))),
        ]
        for (text, expected) in cases {
            #expect(throws: expected, "\(text)") { try NodeSettings.parse(text) }
        }
        // A TOML date is not a configuration value.
        #expect(throws: ConfigurationError.self) { try NodeSettings.parse("[log]\nstatus-interval-ms = 1979-05-27\n") }
        // A list longer than its cap.
        let many = (0..<1_025).map { "\"h:\($0)\"" }.joined(separator: ",")
        #expect(throws: ConfigurationError.invalidValue(key: "mesh.peers", value: "1025 entries", expected: "at most 1024")) {
            try NodeSettings.parse("[mesh]\npeers = [\(many)]\n")
        }
    }
}
