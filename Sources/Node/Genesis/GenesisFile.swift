import Foundation
import Secp256k1
import Shard

/// The file every member of a shard starts from: the shard genesis (its canonical bytes, in hex, so every node hashes
/// the same bytes) and where each member listens. `darknode localnet` writes it; `darknode run --genesis` reads it.
///
/// ```json
/// {"version": 1, "shard": "01…", "members": [{"identity": "02…", "address": "127.0.0.1:18700"}]}
/// ```
public struct GenesisFile: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public let identity: PublicKey
        public let host: String
        public let port: Int

        public init(identity: PublicKey, host: String, port: Int) {
            self.identity = identity
            self.host = host
            self.port = port
        }
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case notJSON(String)
        case field(String)
        case shard(ShardError)
        case membersDisagree(String)

        public var description: String {
            switch self {
            case .notJSON(let why): "genesis file is not JSON: \(why)"
            case .field(let why): "genesis file: \(why)"
            case .shard(let e): "genesis file: shard genesis: \(e)"
            case .membersDisagree(let why): "genesis file: \(why)"
            }
        }
    }

    public static let version = 1
    public let shard: ShardGenesis
    public let members: [Member]

    public init(shard: ShardGenesis, members: [Member]) throws(Failure) {
        guard members.map(\.identity) == shard.committee else {
            throw .membersDisagree("members must list exactly the committee's identity keys, in committee order")
        }
        guard members.allSatisfy({ !$0.host.isEmpty && (1...65_535).contains($0.port) }) else { throw .field("member address") }
        self.shard = shard
        self.members = members
    }

    public var json: Data {
        let object: [String: Any] = [
            "version": Self.version,
            "shard": Hex.encode(shard.encoded),
            "members": members.map { ["identity": Hex.encode($0.identity.compressed), "address": "\($0.host):\($0.port)"] },
        ]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
    }

    public init(json data: Data) throws(Failure) {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch { throw .notJSON("\(error)") }
        guard let object = parsed as? [String: Any] else { throw .notJSON("top level is not an object") }
        guard object["version"] as? Int == Self.version else { throw .field("version must be \(Self.version)") }
        guard let shardHex = object["shard"] as? String, let shardBytes = Hex.decode(shardHex) else { throw .field("shard must be hex") }
        let shard: ShardGenesis
        do { shard = try ShardGenesis(decoding: shardBytes) } catch { throw .shard(error) }
        guard let list = object["members"] as? [[String: Any]], list.count <= ShardLimits.committeeMax else { throw .field("members must be a list") }
        var members: [Member] = []
        for (i, entry) in list.enumerated() {
            guard let idHex = entry["identity"] as? String, let idBytes = Hex.decode(idHex),
                  let identity = try? PublicKey(encoded: idBytes) else { throw .field("members[\(i)].identity") }
            guard let address = entry["address"] as? String, let colon = address.lastIndex(of: ":"),
                  let port = Int(address[address.index(after: colon)...]) else { throw .field("members[\(i)].address must be HOST:PORT") }
            members.append(Member(identity: identity, host: String(address[..<colon]), port: port))
        }
        try self.init(shard: shard, members: members)
    }
}
