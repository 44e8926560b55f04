import Bitcoin
import Secp256k1
import Shard

/// Bounds on what one HTTP request may ask of the node.
public struct RPCLimits: Sendable {
    /// Request body bytes (a mint with a 100 kB deposit transaction, or 2,016 hex headers, fits well inside).
    public var bodyBytesMax = 1 << 20
    /// Requests in one JSON-RPC batch.
    public var batchMax = 100
    /// Submitted RenVM transactions remembered for `ren_queryTx` (oldest forgotten first).
    public var rememberedTransactionsMax = 65_536

    public init() {}
}

/// JSON-RPC 2.0 over a `ShardService`: bytes in, bytes out, no HTTP. Every request is parsed and checked completely
/// before the service is called, and the service is called only through `submitTransaction`, so malformed input reaches
/// neither the mempool nor the index of submitted transactions.
///
/// Methods: RenVM's `ren_submitTx` (Bitcoin mints) and `ren_queryTx`, and this node's `darknode_submitHeaders`,
/// `darknode_submitShardTx` and `darknode_status` (see docs/node.md, "JSON-RPC").
public actor RPCHandler {
    public let service: any ShardService
    public let limits: RPCLimits
    /// RenVM tx hash → what `ren_queryTx` echoes, for transactions accepted through this node.
    private var submitted: [[UInt8]: Remembered] = [:]
    private var submittedOrder: [[UInt8]] = []
    private var submittedHead = 0

    struct Remembered {
        let selector: String
        let input: RenVMMintInput
    }

    public init(service: any ShardService, limits: RPCLimits = RPCLimits()) {
        self.service = service
        self.limits = limits
    }

    /// Answers one HTTP body. Nil means no response body: every request in it was a notification.
    public func handle(_ body: [UInt8]) async -> [UInt8]? {
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(body) } catch { return Self.response(id: .null, error: .parse(error)).serialized }
        switch parsed {
        case .array(let items):
            guard !items.isEmpty else { return Self.response(id: .null, error: .invalidRequest("empty batch")).serialized }
            guard items.count <= limits.batchMax else {
                return Self.response(id: .null, error: .invalidRequest("batch of \(items.count) exceeds \(limits.batchMax)")).serialized
            }
            var responses: [JSONValue] = []
            for item in items {
                if let r = await handleOne(item) { responses.append(r) }
            }
            return responses.isEmpty ? nil : JSONValue.array(responses).serialized
        default:
            return await handleOne(parsed)?.serialized
        }
    }

    /// One request object. Only a well-formed notification (no `id`) goes unanswered, as the specification says;
    /// an envelope too broken to tell is answered with `id: null`.
    func handleOne(_ request: JSONValue) async -> JSONValue? {
        guard case .object(let members) = request else { return Self.response(id: .null, error: .invalidRequest("not an object")) }
        var id: JSONValue = .null
        let idValue = request["id"]
        if let idValue {
            switch idValue {
            case .string, .number, .null: id = idValue
            default: return Self.response(id: .null, error: .invalidRequest("id must be a string, a number or null"))
            }
        }
        for (name, _) in members where !["jsonrpc", "id", "method", "params"].contains(name) {
            return Self.response(id: id, error: .invalidRequest("unknown member \"\(name)\""))
        }
        guard request["jsonrpc"] == .string("2.0") else { return Self.response(id: id, error: .invalidRequest("jsonrpc must be \"2.0\"")) }
        guard case .string(let method) = request["method"] else { return Self.response(id: id, error: .invalidRequest("method must be a string")) }
        let params = request["params"]
        if let params {
            switch params {
            case .object: break
            case .array: return Self.response(id: id, error: .invalidParams("params", "must be an object (by-name parameters)"))
            default: return Self.response(id: id, error: .invalidRequest("params must be an object or an array"))
            }
        }
        let outcome: Result<JSONValue, RPCError>
        do throws(RPCError) { outcome = .success(try await call(method, params)) } catch { outcome = .failure(error) }
        guard idValue != nil else { return nil }
        switch outcome {
        case .success(let result): return Self.response(id: id, result: result)
        case .failure(let error): return Self.response(id: id, error: error)
        }
    }

    func call(_ method: String, _ params: JSONValue?) async throws(RPCError) -> JSONValue {
        switch method {
        case "ren_submitTx": return try await submitMint(params)
        case "ren_queryTx": return try await queryTx(params)
        case "darknode_submitHeaders": return try await submitHeaders(params)
        case "darknode_submitShardTx": return try await submitShardTransaction(params)
        case "darknode_status": return try await status(params)
        default: throw .methodNotFound(method)
        }
    }

    // MARK: RenVM methods

    /// `ren_submitTx`: a Bitcoin mint in RenVM's shape plus its proof. Result `{hash}` (RenVM answers `{}`; the hash
    /// is added for clients that did not compute it).
    func submitMint(_ params: JSONValue?) async throws(RPCError) -> JSONValue {
        let shardKey = await service.status().shardKey
        let mint = try MintSubmission.parse(params, shardKey: shardKey)
        do {
            _ = try await service.submitTransaction(.mint(mint.request))
        } catch {
            // A resubmission of a mint the shard already committed (a client retrying after this node restarted)
            // is accepted as RenVM accepts it, so that it can be queried again; any other refusal is an error.
            guard case .invalid(.alreadyMinted) = error, let committed = await service.mintStatus(nHash: mint.input.nhash),
                  committed.pHash == mint.input.phash, committed.sHash == mint.request.sHash, committed.to == mint.request.to,
                  committed.amount == mint.input.amount else { throw .submission(error) }
        }
        remember(mint.hash, Remembered(selector: mint.selector, input: mint.input))
        return .object([("hash", .string(Base64URL.encode(mint.hash)))])
    }

    /// `ren_queryTx`: `{txHash}` → `{tx:{hash,version,selector,in,out}, txStatus}`. Status: "pending" (accepted,
    /// not yet in a block), "executing" (committed, awaiting the shard's signature), "done" (`out.sig` is the
    /// mint authorisation).
    func queryTx(_ params: JSONValue?) async throws(RPCError) -> JSONValue {
        let p = try ParamReader(params, path: "")
        try p.only(["txHash"])
        let hash = try p.bytes("txHash", count: 32)
        guard let tx = submitted[hash] else {
            throw RPCError(code: RPCError.notFoundCode, message: "tx not found: \(Base64URL.encode(hash))", field: "txHash")
        }
        let status = await service.mintStatus(nHash: tx.input.nhash)
        let txStatus: String
        var out: JSONValue = .object([("t", .object([("struct", .array([]))])), ("v", .object([]))])
        switch status {
        case nil:
            txStatus = "pending"
        case let s? where s.authorisation == nil:
            txStatus = "executing"
        case let s?:
            txStatus = "done"
            out = .object([
                ("t", .object([("struct", .array([
                    .object([("amount", .string("u256"))]), .object([("sighash", .string("bytes32"))]),
                    .object([("sig", .string("bytes65"))]), .object([("revert", .string("string"))]),
                ]))])),
                ("v", .object([
                    ("amount", .string(String(s.amount))), ("sighash", .string(Base64URL.encode(s.sigHash))),
                    ("sig", .string(Base64URL.encode(s.authorisation ?? []))), ("revert", .string("")),
                ])),
            ])
        }
        return .object([
            ("tx", .object([
                ("hash", .string(Base64URL.encode(hash))), ("version", .string(RenVMMintInput.version)), ("selector", .string(tx.selector)),
                ("in", .object([("t", RenVMMintInput.typeJSON), ("v", tx.input.valueJSON)])), ("out", out),
            ])),
            ("txStatus", .string(txStatus)),
        ])
    }

    private func remember(_ hash: [UInt8], _ entry: Remembered) {
        if submitted.updateValue(entry, forKey: hash) == nil { submittedOrder.append(hash) }
        while submitted.count > limits.rememberedTransactionsMax, submittedHead < submittedOrder.count {
            submitted[submittedOrder[submittedHead]] = nil
            submittedHead += 1
        }
        if submittedHead > 1_024, submittedHead * 2 > submittedOrder.count {
            submittedOrder.removeFirst(submittedHead)
            submittedHead = 0
        }
    }

    // MARK: This node's methods

    /// `darknode_submitHeaders`: `{headers: [hex of 80 bytes, …]}` in chain order → `{id}` (mempool id, hex).
    func submitHeaders(_ params: JSONValue?) async throws(RPCError) -> JSONValue {
        let p = try ParamReader(params, path: "")
        try p.only(["headers"])
        let value = try p.required("headers")
        guard case .array(let items) = value else { throw .invalidParams("headers", "must be an array, got \(value.kind)") }
        guard !items.isEmpty, items.count <= ShardLimits.headersPerTransactionMax else {
            throw .invalidParams("headers", "must hold 1 to \(ShardLimits.headersPerTransactionMax) headers")
        }
        var headers: [BlockHeader] = []
        headers.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let field = "headers[\(i)]"
            guard case .string(let text) = item else { throw .invalidParams(field, "must be a string, got \(item.kind)") }
            guard !text.hasPrefix("0x"), let bytes = Hex.decode(text) else { throw .invalidParams(field, "not hex") }
            guard bytes.count == BlockHeader.byteCount else { throw .invalidParams(field, "must be 80 bytes, got \(bytes.count)") }
            do { headers.append(try BlockHeader(parsing: bytes)) } catch { throw .invalidParams(field, "\(error)") }
        }
        return try await submit(.bitcoinHeaders(headers))
    }

    /// `darknode_submitShardTx`: `{tx: hex of ShardTransaction.encoded}` → `{id, kind}`. Only what clients and relayers
    /// originate: headers, mints, sweeps and misbehaviour evidence. Shard keys, presignature batches and signatures
    /// come from the committee's own key generation and signing, never from an RPC client.
    func submitShardTransaction(_ params: JSONValue?) async throws(RPCError) -> JSONValue {
        let p = try ParamReader(params, path: "")
        try p.only(["tx"])
        let bytes = try p.hex("tx")
        let tx: ShardTransaction
        do { tx = try ShardTransaction(decoding: bytes) } catch { throw .invalidParams("tx", "\(error)") }
        switch tx {
        case .bitcoinHeaders, .mint, .sweep, .misbehaviour: break
        case .shardKey, .presignatures, .signatures:
            throw .invalidParams("tx", "a \(tx.kind) transaction is produced by the committee, not submitted over RPC")
        }
        return try await submit(tx)
    }

    private func submit(_ tx: ShardTransaction) async throws(RPCError) -> JSONValue {
        do {
            let id = try await service.submitTransaction(tx)
            return .object([("id", .string(Hex.encode(id))), ("kind", .string(tx.kind))])
        } catch { throw .submission(error) }
    }

    /// `darknode_status`: `{}` → `{height, shardKey, bitcoinTipHeight, mempoolTransactions}`.
    func status(_ params: JSONValue?) async throws(RPCError) -> JSONValue {
        if let params { try ParamReader(params, path: "").only([]) }
        let s = await service.status()
        return .object([
            ("height", .number(String(s.height))), ("shardKey", s.shardKey.map { .string(Hex.encode($0)) } ?? .null),
            ("bitcoinTipHeight", .number(String(s.bitcoinTipHeight))), ("mempoolTransactions", .number(String(s.mempoolTransactions))),
        ])
    }

    // MARK: Envelopes

    static func response(id: JSONValue, result: JSONValue) -> JSONValue {
        .object([("jsonrpc", .string("2.0")), ("id", id), ("result", result)])
    }

    static func response(id: JSONValue, error: RPCError) -> JSONValue {
        .object([("jsonrpc", .string("2.0")), ("id", id), ("error", error.json)])
    }

    /// The body answering a request whose body exceeded `RPCLimits.bodyBytesMax` (never parsed).
    public static func oversizeBody(limit: Int) -> [UInt8] {
        response(id: .null, error: .invalidRequest("body exceeds \(limit) bytes")).serialized
    }
}
