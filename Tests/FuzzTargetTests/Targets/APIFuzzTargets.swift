import API
import Bitcoin
import Dispatch
import Foundation
import Secp256k1
import Shard

/// JSON-RPC bodies as the HTTP server hands them to the handler (Sources/API), against a service that accepts every
/// submission. Invariants: the parser's values survive serialization; every answer is JSON (an object, or an array
/// for a batch) and never a crash.
enum APIFuzzTargets {
    static let builders: [FuzzTargetBuilder] = [
        ("jsonrpc-body", { _ in try jsonRPCBody() }),
    ]

    /// Accepts everything and stores nothing (so a long run stays bounded).
    actor AcceptingService: ShardService {
        func submitTransaction(_ transaction: ShardTransaction) async throws(SubmissionError) -> [UInt8] { transaction.id }
        func mintStatus(nHash: [UInt8]) async -> MintStatus? {
            guard nHash.first == 0x01 else { return nil }
            return MintStatus(nHash: nHash, pHash: nHash, sHash: nHash, to: [UInt8](repeating: 2, count: 20), amount: 5,
                              sigHash: nHash, committedAt: 3, presignatureAssigned: true, authorisation: [UInt8](repeating: 1, count: 65))
        }
        func status() async -> ServiceStatus { ServiceStatus(height: 7, shardKey: nil, bitcoinTipHeight: 120, mempoolTransactions: 0) }
        func sweep(spending coin: OutPoint) async -> SweepStatus? { SweepStatus(txid: coin.txid, signedTransaction: [1, 2, 3]) }
    }

    /// Runs `body` to completion from synchronous code (libFuzzer's callback), waiting at most 10 s.
    final class Box<T>: @unchecked Sendable { var value: T?; init() {} }
    static func blocking(_ handler: RPCHandler, _ body: [UInt8]) -> (finished: Bool, answer: [UInt8]?) {
        let done = DispatchSemaphore(value: 0)
        let box = Box<[UInt8]>()
        Task {
            box.value = await handler.handle(body)
            done.signal()
        }
        // Not a hang detector (libFuzzer's -timeout=10 is): a bound so a lost answer cannot stall the replay test
        // forever. Long, because in the full test suite the cooperative pool the handler runs on can be saturated
        // by other suites for a while (10 s was too short there).
        guard done.wait(timeout: .now() + 600) == .success else { return (false, nil) }
        return (true, box.value)
    }

    static func request(_ method: String, _ params: JSONValue?, id: JSONValue? = .number("1")) -> JSONValue {
        var members: [(String, JSONValue)] = [("jsonrpc", .string("2.0")), ("method", .string(method))]
        if let id { members.append(("id", id)) }
        if let params { members.append(("params", params)) }
        return .object(members)
    }

    static func jsonRPCBody() throws -> FuzzTarget {
        let handler = RPCHandler(service: AcceptingService())
        // A consistent ren_submitTx (deposit of 50,000 sat in output 1), as RenVM's clients send it.
        let deposit = Transaction(
            inputs: [TxInput(previousOutput: OutPoint(txid: [UInt8](repeating: 0x99, count: 32), index: 3))],
            outputs: [TxOutput(value: 12_345, scriptPubKey: Script([0x51] as [UInt8])),
                      TxOutput(value: 50_000, scriptPubKey: Script([0x00, 0x20] as [UInt8] + [UInt8](repeating: 0x42, count: 32)))])
        let selector = "BTC/toEthereum"
        let to = "0x00112233445566778899aabbccddeeff00112233"
        let toBytes = [UInt8](Hex.decode("00112233445566778899aabbccddeeff00112233")!)
        let nonce = [UInt8](repeating: 7, count: 32)
        let payload = Array("deposit for alice".utf8)
        let pHash = RenVMHashes.pHash(payload: payload)
        let sHash = RenVMHashes.sHash(selector: selector)
        let input = RenVMMintInput(
            txid: deposit.txid, txindex: 1, amount: 50_000, payload: payload, phash: pHash, to: to, nonce: nonce,
            nhash: try RenVMHashes.nHash(nonce: nonce, txid: deposit.txid, outputIndex: 1), gpubkey: [],
            ghash: try RenVMHashes.gHash(pHash: pHash, sHash: sHash, to: toBytes, nonce: nonce))
        let mint = JSONValue.object([
            ("tx", .object([
                ("hash", .string(Base64URL.encode(input.transactionHash(selector: selector)))), ("version", .string("1")),
                ("selector", .string(selector)), ("in", .object([("t", RenVMMintInput.typeJSON), ("v", input.valueJSON)])),
            ])),
            ("proof", .object([
                ("depositTx", .string(Base64URL.encode(deposit.serialized()))), ("blockHash", .string(Base64URL.encode([UInt8](repeating: 0xAB, count: 32)))),
                ("txPosition", .string("2")), ("txCount", .string("3")),
                ("siblings", .array([.string(Base64URL.encode([UInt8](repeating: 1, count: 32))), .string(Base64URL.encode([UInt8](repeating: 2, count: 32)))])),
            ])),
        ])
        let header = Hex.encode(RegtestMiner.genesisHeader.serialized)
        let sweep = ShardTransaction.sweep(SweepRequest(coins: [OutPoint(txid: [UInt8](repeating: 5, count: 32), index: 1)], feeRate: 4))
        let requests: [JSONValue] = [
            request("ren_submitTx", mint),
            request("ren_queryTx", .object([("txHash", .string(Base64URL.encode(input.transactionHash(selector: selector))))])),
            request("darknode_submitHeaders", .object([("headers", .array([.string(header)]))])),
            request("darknode_submitShardTx", .object([("tx", .string(Hex.encode(sweep.encoded)))])),
            request("darknode_status", .object([]), id: .string("abc")),
            request("darknode_queryMint", .object([("nHash", .string(Hex.encode([0x01] + [UInt8](repeating: 9, count: 31))))])),
            request("darknode_querySweep", .object([("coin", .string(Hex.encode([UInt8](repeating: 5, count: 32)) + ":1"))]), id: nil),
        ]
        let seeds = requests.map(\.serialized) + [JSONValue.array(Array(requests.prefix(3))).serialized]
        return FuzzTarget(name: "jsonrpc-body", seeds: seeds) { body throws(FuzzFinding) in
            if let value = try? JSONParser.parse(body) {
                guard (try? JSONParser.parse(value.serialized)) == value else {
                    throw FuzzFinding(target: "jsonrpc-body", detail: "a parsed JSON value does not survive serialization")
                }
            }
            let (finished, answer) = blocking(handler, body)
            guard finished else { throw FuzzFinding(target: "jsonrpc-body", detail: "the handler did not answer within 600 s") }
            guard let answer else { return }
            guard let parsed = try? JSONParser.parse(answer) else {
                throw FuzzFinding(target: "jsonrpc-body", detail: "the handler answered with bytes that are not JSON")
            }
            switch parsed {
            case .object, .array: break
            default: throw FuzzFinding(target: "jsonrpc-body", detail: "the handler's answer is neither an object nor a batch")
            }
        }
    }
}
