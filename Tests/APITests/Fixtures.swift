import API
import Bitcoin
import Secp256k1
import Shard

/// A node stand-in that records what reached it. Tests assert on `submitted` to prove that refused input stored
/// nothing.
actor FakeShardService: ShardService {
    private(set) var submitted: [ShardTransaction] = []
    var refusal: SubmissionError?
    var mints: [[UInt8]: MintStatus] = [:]
    var shardKey: [UInt8]?

    func submitTransaction(_ transaction: ShardTransaction) async throws(SubmissionError) -> [UInt8] {
        if let refusal { throw refusal }
        submitted.append(transaction)
        return transaction.id
    }

    func mintStatus(nHash: [UInt8]) async -> MintStatus? { mints[nHash] }

    func status() async -> ServiceStatus {
        ServiceStatus(height: 7, shardKey: shardKey, bitcoinTipHeight: 120, mempoolTransactions: submitted.count)
    }

    func refuse(with error: SubmissionError?) { refusal = error }
    func commit(_ status: MintStatus) { mints[status.nHash] = status }
    func setShardKey(_ key: [UInt8]?) { shardKey = key }
}

/// A consistent `ren_submitTx` for a deposit of 50,000 sat in output 1 of a small transaction.
struct MintFixture {
    static let selector = "BTC/toEthereum"
    static let to = "0x00112233445566778899aabbccddeeff00112233"
    static let toBytes = Hex.decode("00112233445566778899aabbccddeeff00112233")!

    let deposit: Transaction
    let input: RenVMMintInput
    let blockHash = [UInt8](repeating: 0xAB, count: 32)
    let siblings = [[UInt8](repeating: 0x01, count: 32), [UInt8](repeating: 0x02, count: 32)]

    init(nonceByte: UInt8 = 7, gpubkey: [UInt8] = []) {
        deposit = Transaction(
            inputs: [TxInput(previousOutput: OutPoint(txid: [UInt8](repeating: 0x99, count: 32), index: 3))],
            outputs: [TxOutput(value: 12_345, scriptPubKey: Script([0x51] as [UInt8])),
                      TxOutput(value: 50_000, scriptPubKey: Script([0x00, 0x20] as [UInt8] + [UInt8](repeating: 0x42, count: 32)))])
        let nonce = [UInt8](repeating: nonceByte, count: 32)
        let payload = Array("deposit for alice".utf8)
        let pHash = RenVMHashes.pHash(payload: payload)
        let sHash = RenVMHashes.sHash(selector: Self.selector)
        input = RenVMMintInput(
            txid: deposit.txid, txindex: 1, amount: 50_000, payload: payload, phash: pHash, to: Self.to, nonce: nonce,
            nhash: try! RenVMHashes.nHash(nonce: nonce, txid: deposit.txid, outputIndex: 1), gpubkey: gpubkey,
            ghash: try! RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: Self.toBytes, nonce: nonce))
    }

    var hash: [UInt8] { input.transactionHash(selector: Self.selector) }

    var params: JSONValue {
        .object([
            ("tx", .object([
                ("hash", .string(Base64URL.encode(hash))), ("version", .string("1")), ("selector", .string(Self.selector)),
                ("in", .object([("t", RenVMMintInput.typeJSON), ("v", input.valueJSON)])),
            ])),
            ("proof", .object([
                ("depositTx", .string(Base64URL.encode(deposit.serialized()))), ("blockHash", .string(Base64URL.encode(blockHash))),
                ("txPosition", .string("2")), ("txCount", .string("3")),
                ("siblings", .array(siblings.map { .string(Base64URL.encode($0)) })),
            ])),
        ])
    }

    /// The shard transaction this submission must turn into.
    var expectedRequest: MintRequest {
        try! MintRequest(depositTransaction: deposit.serialized(), outputIndex: 1, transactionIndex: 2, transactionCount: 3,
                         siblings: siblings, blockHash: blockHash, pHash: input.phash, sHash: RenVMHashes.sHash(selector: Self.selector),
                         to: Self.toBytes, nonce: input.nonce)
    }

    func committed(signed: Bool) -> MintStatus {
        MintStatus(nHash: input.nhash, pHash: input.phash, sHash: RenVMHashes.sHash(selector: Self.selector), to: Self.toBytes,
                   amount: 50_000, sigHash: [UInt8](repeating: 0x5A, count: 32), committedAt: 4, presignatureAssigned: signed,
                   authorisation: signed ? [UInt8](repeating: 0x01, count: 64) + [28] : nil)
    }
}

extension JSONValue {
    /// This value with the member at `path` replaced (or removed, for nil); intermediate members must be objects.
    func setting(_ path: [String], to newValue: JSONValue?) -> JSONValue {
        guard let first = path.first, case .object(var members) = self else { return self }
        let index = members.firstIndex { $0.0 == first }
        if path.count == 1 {
            if let index {
                if let newValue { members[index].1 = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((first, newValue))
            }
        } else if let index {
            members[index].1 = members[index].1.setting(Array(path.dropFirst()), to: newValue)
        }
        return .object(members)
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
}

/// A request envelope.
func request(_ method: String, _ params: JSONValue?, id: JSONValue? = .number("1")) -> JSONValue {
    var members: [(String, JSONValue)] = [("jsonrpc", .string("2.0")), ("method", .string(method))]
    if let id { members.append(("id", id)) }
    if let params { members.append(("params", params)) }
    return .object(members)
}

/// Sends `body` through the handler and parses the answer.
func answer(_ handler: RPCHandler, _ body: [UInt8]) async throws -> JSONValue? {
    guard let bytes = await handler.handle(body) else { return nil }
    return try JSONParser.parse(bytes)
}

func answer(_ handler: RPCHandler, _ request: JSONValue) async throws -> JSONValue? {
    try await answer(handler, request.serialized)
}

extension Optional where Wrapped == JSONValue {
    /// `error.code` of a response, if it is an error.
    var errorCode: Int? {
        guard case .number(let n)? = self?["error"]?["code"] else { return nil }
        return Int(n)
    }

    var errorField: String? { self?["error"]?["data"]?["field"]?.string }
}
