import Bitcoin
import Secp256k1
import Shard

/// RenVM's cross-chain mint input (`in` of a `BTC/to<Chain>` transaction, ren-js v3 `crossChainParamsType`), with
/// RenVM's transaction hash over it. Field order and types are RenVM's, because the hash covers the type too.
public struct RenVMMintInput: Sendable, Equatable {
    public var txid: [UInt8]
    public var txindex: UInt32
    public var amount: UInt64
    public var payload: [UInt8]
    public var phash: [UInt8]
    /// The recipient as the client wrote it ("0x" and 40 hex digits for an EVM chain); hashed as written.
    public var to: String
    public var nonce: [UInt8]
    public var nhash: [UInt8]
    public var gpubkey: [UInt8]
    public var ghash: [UInt8]

    /// The version this node accepts: RenVM's v1 transaction format (ren-js v3).
    public static let version = "1"

    /// `(name, pack type)` in RenVM's order.
    static let fields: [(String, String)] = [
        ("txid", "bytes"), ("txindex", "u32"), ("amount", "u256"), ("payload", "bytes"), ("phash", "bytes32"),
        ("to", "string"), ("nonce", "bytes32"), ("nhash", "bytes32"), ("gpubkey", "bytes"), ("ghash", "bytes32"),
    ]

    /// Pack kind ids (renproject/pack `kind.go`).
    static let kinds: [String: UInt8] = ["u32": 4, "u256": 7, "string": 10, "bytes": 11, "bytes32": 12]
    static let structKind: UInt8 = 20

    /// `in.t` as RenVM writes it: `{"struct":[{"txid":"bytes"},…]}`.
    public static var typeJSON: JSONValue {
        .object([("struct", .array(fields.map { .object([($0.0, .string($0.1))]) }))])
    }

    public init(txid: [UInt8], txindex: UInt32, amount: UInt64, payload: [UInt8], phash: [UInt8], to: String, nonce: [UInt8],
                nhash: [UInt8], gpubkey: [UInt8], ghash: [UInt8]) {
        self.txid = txid
        self.txindex = txindex
        self.amount = amount
        self.payload = payload
        self.phash = phash
        self.to = to
        self.nonce = nonce
        self.nhash = nhash
        self.gpubkey = gpubkey
        self.ghash = ghash
    }

    /// `in.v` in pack JSON: integers as decimal strings, bytes as unpadded URL-safe base64.
    public var valueJSON: JSONValue {
        .object([
            ("txid", .string(Base64URL.encode(txid))), ("txindex", .string(String(txindex))), ("amount", .string(String(amount))),
            ("payload", .string(Base64URL.encode(payload))), ("phash", .string(Base64URL.encode(phash))), ("to", .string(to)),
            ("nonce", .string(Base64URL.encode(nonce))), ("nhash", .string(Base64URL.encode(nhash))),
            ("gpubkey", .string(Base64URL.encode(gpubkey))), ("ghash", .string(Base64URL.encode(ghash))),
        ])
    }

    /// RenVM's binary encoding of the typed value `{t, v}`: the struct type (kind ‖ u32 field count ‖ (name, kind)…)
    /// followed by the field values (u32 big-endian, u256 as 32 big-endian bytes, string and bytes with a u32 length
    /// prefix, bytes32 raw).
    var typedPackEncoding: [UInt8] {
        var out: [UInt8] = [Self.structKind] + Self.u32(UInt32(Self.fields.count))
        for (name, type) in Self.fields { out += Self.string(name) + [Self.kinds[type]!] }
        out += Self.bytes(txid) + Self.u32(txindex) + [UInt8](repeating: 0, count: 24) + Self.u64(amount)
        out += Self.bytes(payload) + phash + Self.string(to) + nonce + nhash + Self.bytes(gpubkey) + ghash
        return out
    }

    /// RenVM's transaction hash: SHA-256(string(version) ‖ string(selector) ‖ typed pack encoding of `in`), as ren-js
    /// `generateTransactionHash` computes it; shown as unpadded URL-safe base64.
    public func transactionHash(selector: String) -> [UInt8] {
        BitcoinHash.sha256(Self.string(Self.version) + Self.string(selector) + typedPackEncoding)
    }

    static func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * (3 - $0))) } }
    static func u64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * (7 - $0))) } }
    static func bytes(_ b: [UInt8]) -> [UInt8] { u32(UInt32(b.count)) + b }
    static func string(_ s: String) -> [UInt8] { bytes(Array(s.utf8)) }
}

/// A `ren_submitTx` mint: RenVM's transaction, checked for internal consistency, with the proof our shard needs
/// (RenVM's darknodes watched Bitcoin themselves; this shard learns Bitcoin only from proofs inside blocks).
struct MintSubmission {
    let selector: String
    let input: RenVMMintInput
    let hash: [UInt8]
    let request: MintRequest

    /// Parses `params` (`{tx:{hash?,version,selector,in:{t,v}}, proof:{…}}`) and checks every hash the client sent
    /// against the values it sent; `shardKey` is the compressed key `gpubkey` may name. Nothing here reads or
    /// changes state.
    static func parse(_ params: JSONValue?, shardKey: [UInt8]?) throws(RPCError) -> MintSubmission {
        let p = try ParamReader(params, path: "")
        try p.only(["tx", "proof"])
        let tx = try ParamReader(try p.required("tx"), path: "tx")
        try tx.only(["hash", "version", "selector", "in"])
        let version = try tx.string("version")
        guard version == RenVMMintInput.version else {
            throw .invalidParams("tx.version", "must be \"\(RenVMMintInput.version)\" (RenVM's v1 transaction format)")
        }
        let selector = try tx.string("selector")
        try checkSelector(selector)
        let typed = try ParamReader(try tx.required("in"), path: "tx.in")
        try typed.only(["t", "v"])
        guard try typed.required("t") == RenVMMintInput.typeJSON else {
            throw .invalidParams("tx.in.t", "must be RenVM's cross-chain input type (txid, txindex, amount, payload, phash, to, nonce, nhash, gpubkey, ghash)")
        }
        let v = try ParamReader(try typed.required("v"), path: "tx.in.v")
        try v.only(RenVMMintInput.fields.map(\.0))
        let amountText = try v.string("amount")
        guard let amount = ParamReader.decimal(amountText) else {
            throw .invalidParams("tx.in.v.amount", "must be a decimal string of at most 64 bits (satoshis)")
        }
        let input = RenVMMintInput(
            txid: try v.bytes("txid", count: 32), txindex: try v.u32("txindex"), amount: amount, payload: try v.bytes("payload"),
            phash: try v.bytes("phash", count: 32), to: try v.string("to"), nonce: try v.bytes("nonce", count: 32),
            nhash: try v.bytes("nhash", count: 32), gpubkey: try v.bytes("gpubkey"), ghash: try v.bytes("ghash", count: 32))

        let proof = try ParamReader(try p.required("proof"), path: "proof")
        try proof.only(["depositTx", "blockHash", "txPosition", "txCount", "siblings"])
        let depositTx = try proof.bytes("depositTx")
        let blockHash = try proof.bytes("blockHash", count: 32)
        let position = try proof.u32("txPosition")
        let count = try proof.u32("txCount")
        let siblingsValue = try proof.required("siblings")
        guard case .array(let siblingItems) = siblingsValue else { throw .invalidParams("proof.siblings", "must be an array, got \(siblingsValue.kind)") }
        guard siblingItems.count <= 32 else { throw .invalidParams("proof.siblings", "at most 32 merkle siblings") }
        var siblings: [[UInt8]] = []
        for (i, item) in siblingItems.enumerated() {
            guard case .string(let s) = item else { throw .invalidParams("proof.siblings[\(i)]", "must be a string, got \(item.kind)") }
            siblings.append(try ParamReader.bytes(s, field: "proof.siblings[\(i)]", count: 32))
        }

        // The RenVM fields must describe the proven deposit, and each hash must be the hash of the fields it covers.
        let deposit: Transaction
        do { deposit = try Transaction(parsing: depositTx) } catch { throw .invalidParams("proof.depositTx", "not a Bitcoin transaction: \(error)") }
        guard deposit.txid == input.txid else { throw .invalidParams("tx.in.v.txid", "does not equal the txid of proof.depositTx") }
        guard deposit.outputs.indices.contains(Int(input.txindex)) else {
            throw .invalidParams("tx.in.v.txindex", "proof.depositTx has \(deposit.outputs.count) outputs")
        }
        guard deposit.outputs[Int(input.txindex)].value == input.amount else {
            throw .invalidParams("tx.in.v.amount", "does not equal the value of output \(input.txindex) of proof.depositTx")
        }
        guard RenVMHashes.pHash(payload: input.payload) == input.phash else { throw .invalidParams("tx.in.v.phash", "does not equal keccak256(payload)") }
        let to = try evmAddress(input.to)
        let sHash = RenVMHashes.sHash(selector: selector)
        guard try! RenVMHashes.nHash(nonce: input.nonce, txid: input.txid, outputIndex: input.txindex) == input.nhash else {
            throw .invalidParams("tx.in.v.nhash", "does not equal keccak256(nonce ‖ txid ‖ txindex)")
        }
        guard try! RenVMHashes.gHash(pHash: input.phash, sHash: sHash, to: to, nonce: input.nonce) == input.ghash else {
            throw .invalidParams("tx.in.v.ghash", "does not equal keccak256(phash ‖ keccak256(selector) ‖ to ‖ nonce)")
        }
        if !input.gpubkey.isEmpty, input.gpubkey != shardKey {
            throw .invalidParams("tx.in.v.gpubkey", "must be empty or the shard's compressed key")
        }
        // Last, so that a wrong field is named rather than reported as a hash mismatch.
        let hash = input.transactionHash(selector: selector)
        if tx.optional("hash") != nil {
            let claimed = try tx.bytes("hash", count: 32)
            guard claimed == hash else { throw .invalidParams("tx.hash", "does not equal RenVM's hash of version, selector and in (\(Base64URL.encode(hash)))") }
        }
        let request: MintRequest
        do {
            request = try MintRequest(depositTransaction: depositTx, outputIndex: input.txindex, transactionIndex: position,
                                      transactionCount: count, siblings: siblings, blockHash: blockHash, pHash: input.phash,
                                      sHash: sHash, to: to, nonce: input.nonce)
        } catch { throw .invalidParams("proof", "\(error)") }
        return MintSubmission(selector: selector, input: input, hash: hash, request: request)
    }

    /// A mint selector: "BTC/to" and a chain name (ASCII letters), as RenVM names lock-and-mint from Bitcoin.
    static func checkSelector(_ selector: String) throws(RPCError) {
        let prefix = "BTC/to"
        let chain = selector.utf8.dropFirst(prefix.utf8.count)
        guard selector.hasPrefix(prefix), !chain.isEmpty, selector.utf8.count <= ShardLimits.nameBytesMax,
              chain.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
            throw .invalidParams("tx.selector", "must be a Bitcoin mint selector \"BTC/to<Chain>\"")
        }
    }

    /// `to` for an EVM chain: "0x" and 40 hex digits (any case; the checksum is not required).
    static func evmAddress(_ text: String) throws(RPCError) -> [UInt8] {
        guard text.hasPrefix("0x"), text.utf8.count == 42, let b = Hex.decode(text) else {
            throw .invalidParams("tx.in.v.to", "must be an EVM address: 0x and 40 hex digits")
        }
        return b
    }
}
