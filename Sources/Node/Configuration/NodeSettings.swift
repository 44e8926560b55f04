import Enclave
import Network
import Secp256k1

/// The node's own sections of `darknode.toml` (`[mesh]`, `[shard]`, `[rpc]`, `[log]`; `[enclave]` is the Enclave
/// module's). Every value is optional: `darknode run` takes a command-line flag first, then the file, then its
/// default, so an operator keeps a whole node's settings in one file and a test or script overrides one of them.
public struct NodeSettings: Sendable, Equatable {
    /// `HOST:PORT`, IPv6 hosts in brackets (`[::1]:18515`).
    public struct Address: Sendable, Equatable, CustomStringConvertible {
        public let host: String
        public let port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public init?(_ text: String) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port)
            else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty, !host.contains(" ") else { return nil }
            self.init(host: host, port: port)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    // [mesh]
    public var listen: Address?
    public var peers: [Address] = []
    public var admitted: [PeerID] = []
    public var admitFile: String?
    public var allowedMeasurements: [[UInt8]] = []
    public var reattestationInterval: Duration?
    // [shard]
    public var genesisPath: String?
    public var idleBlockInterval: Duration?
    // [rpc]
    public var rpcListen: Address?
    // [log]
    public var statusInterval: Duration?

    public init() {}

    /// The sections a node's file may hold; any other is refused (a misspelt section would be ignored silently).
    public static let sections: Set<String> = [EnclaveConfiguration.sectionName, "mesh", "shard", "rpc", "log"]
    /// Bounds for intervals, in the file's milliseconds: at least 100 ms (no busy loop), at most a day.
    static let intervalRange = 100...86_400_000

    public static func parse(_ text: String) throws(ConfigurationError) -> NodeSettings {
        let file = try ConfigurationFile(text: text)
        try file.requireOnly(sections: sections)
        _ = try EnclaveConfiguration(file: file)
        return try NodeSettings(file: file)
    }

    public init(file: ConfigurationFile) throws(ConfigurationError) {
        let mesh = try file.section("mesh", keys: ["listen", "peers", "admit", "admit-file", "allow-measurements", "reattestation-interval-ms"])
        listen = try Self.address(mesh, "listen")
        peers = try (mesh.strings("peers") ?? []).map { text throws(ConfigurationError) in
            guard let address = Address(text) else { throw .invalidValue(key: "mesh.peers", value: "\"\(text)\"", expected: "HOST:PORT") }
            return address
        }
        admitted = try (mesh.strings("admit") ?? []).map { text throws(ConfigurationError) in
            guard let peer = Hex.decode(text).flatMap({ PeerID(bytes: $0) }) else {
                throw .invalidValue(key: "mesh.admit", value: "\"\(text)\"", expected: "a compressed secp256k1 key in hex (33 bytes)")
            }
            return peer
        }
        admitFile = try mesh.string("admit-file")
        allowedMeasurements = try (mesh.strings("allow-measurements") ?? []).map { text throws(ConfigurationError) in
            guard let bytes = Hex.decode(text), !bytes.isEmpty, bytes.count <= 64 else {
                throw .invalidValue(key: "mesh.allow-measurements", value: "\"\(text)\"", expected: "a measurement in hex (1…64 bytes)")
            }
            return bytes
        }
        reattestationInterval = try mesh.integer("reattestation-interval-ms", in: Self.intervalRange).map(Duration.milliseconds)

        let shard = try file.section("shard", keys: ["genesis", "idle-block-interval-ms"])
        genesisPath = try shard.string("genesis")
        idleBlockInterval = try shard.integer("idle-block-interval-ms", in: 0...Self.intervalRange.upperBound).map(Duration.milliseconds)

        let rpc = try file.section("rpc", keys: ["listen"])
        rpcListen = try Self.address(rpc, "listen")

        let log = try file.section("log", keys: ["status-interval-ms"])
        statusInterval = try log.integer("status-interval-ms", in: Self.intervalRange).map(Duration.milliseconds)
    }

    private static func address(_ section: ConfigurationSection, _ key: String) throws(ConfigurationError) -> Address? {
        guard let text = try section.string(key) else { return nil }
        guard let address = Address(text) else { throw .invalidValue(key: section.name + "." + key, value: "\"\(text)\"", expected: "HOST:PORT") }
        return address
    }

    /// The node's sections as TOML: set values written out, unset ones as commented examples. `darknode init` appends
    /// this to the `[enclave]` section; `darknode localnet` writes each member's file with it.
    public var fileText: String {
        func line(_ key: String, _ value: String?, example: String) -> String {
            value.map { "\(key) = \($0)" } ?? "# \(key) = \(example)"
        }
        func quoted(_ text: String) -> String { "\"\(text)\"" }
        // The file's intervals are whole milliseconds (the `-ms` keys).
        func milliseconds(_ interval: Duration) -> String { String(interval.wholeMilliseconds) }
        func list(_ items: [String]) -> String? { items.isEmpty ? nil : "[" + items.map(quoted).joined(separator: ", ") + "]" }
        return """
            [mesh]
            # Where this node listens for attested peers, and the peers it keeps connected.
            \(line("listen", listen.map { quoted($0.description) }, example: "\"127.0.0.1:18515\""))
            \(line("peers", list(peers.map(\.description)), example: "[\"10.0.0.2:18515\", \"[::1]:18516\"]"))
            # Identity keys (compressed secp256k1, hex) allowed to connect, inline or one per line in a file. With
            # [shard] genesis set, the other committee members are admitted too.
            \(line("admit", list(admitted.map { Hex.encode($0.bytes) }), example: "[\"02…\"]"))
            \(line("admit-file", admitFile.map(quoted), example: "\"/etc/darknode/admitted.txt\""))
            # Peer enclave measurements (hex) accepted; default: this build's own measurement.
            \(line("allow-measurements", list(allowedMeasurements.map { Hex.encode($0) }), example: "[\"…\"]"))
            \(line("reattestation-interval-ms", reattestationInterval.map(milliseconds), example: "60000"))

            [shard]
            # The shard this node is a member of (a genesis file, as `darknode localnet` writes): with it the node runs
            # consensus and MPC; without it, it only joins the mesh.
            \(line("genesis", genesisPath.map(quoted), example: "\"/etc/darknode/genesis.json\""))
            # Pause after an empty block with nothing waiting (CometBFT's timeout_commit).
            \(line("idle-block-interval-ms", idleBlockInterval.map(milliseconds), example: "500"))

            [rpc]
            # JSON-RPC 2.0 over HTTP (ren_submitTx, ren_queryTx, darknode_*); needs [shard] genesis.
            \(line("listen", rpcListen.map { quoted($0.description) }, example: "\"127.0.0.1:18600\""))

            [log]
            # How often `darknode run` prints a status line.
            \(line("status-interval-ms", statusInterval.map(milliseconds), example: "10000"))

            """
    }
}
