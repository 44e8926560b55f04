import API
import Bitcoin
import Secp256k1
import Shard
import Testing

@Suite struct SubmitTxTests {
    @Test func consistentMintIsSubmittedAsTheShardMint() async throws {
        let fake = FakeShardService()
        let handler = RPCHandler(service: fake)
        let mint = MintFixture()
        let r = try await answer(handler, request("ren_submitTx", mint.params))
        #expect(r?["jsonrpc"] == .string("2.0"))
        #expect(r?["id"] == .number("1"))
        #expect(r?["result"]?["hash"] == .string(Base64URL.encode(mint.hash)))
        #expect(await fake.submitted == [.mint(mint.expectedRequest)])
    }

    @Test func hashIsOptional() async throws {
        let fake = FakeShardService()
        let mint = MintFixture()
        let r = try await answer(RPCHandler(service: fake), request("ren_submitTx", mint.params.setting(["tx", "hash"], to: nil)))
        #expect(r?["result"]?["hash"] == .string(Base64URL.encode(mint.hash)))
        #expect(await fake.submitted.count == 1)
    }

    @Test func gpubkeyMayNameTheShardKey() async throws {
        let fake = FakeShardService()
        let key = try PrivateKey(scalar: Scalar(7)).publicKey.compressed
        await fake.setShardKey(key)
        let mint = MintFixture(gpubkey: key)
        let r = try await answer(RPCHandler(service: fake), request("ren_submitTx", mint.params))
        #expect(r?["result"] != nil)
        #expect(await fake.submitted.count == 1)
    }

    /// Each case breaks one field; the error must be invalid params naming that field, and nothing is submitted.
    static let inconsistent: [(String, [String], JSONValue?)] = {
        let m = MintFixture()
        let other = Base64URL.encode([UInt8](repeating: 0xEE, count: 32))
        return [
            ("tx.hash", ["tx", "hash"], .string(other)),
            ("tx.in.v.phash", ["tx", "in", "v", "phash"], .string(other)),
            ("tx.in.v.nhash", ["tx", "in", "v", "nhash"], .string(other)),
            ("tx.in.v.ghash", ["tx", "in", "v", "ghash"], .string(other)),
            ("tx.in.v.txid", ["tx", "in", "v", "txid"], .string(other)),
            ("tx.in.v.amount", ["tx", "in", "v", "amount"], .string("50001")),
            ("tx.in.v.txindex", ["tx", "in", "v", "txindex"], .string("2")),
            ("tx.in.v.gpubkey", ["tx", "in", "v", "gpubkey"], .string(Base64URL.encode([2] + [UInt8](repeating: 1, count: 32)))),
            ("tx.in.v.to", ["tx", "in", "v", "to"], .string("00112233445566778899aabbccddeeff00112233")),
            ("tx.in.v.nonce", ["tx", "in", "v", "nonce"], .string(Base64URL.encode([1, 2, 3]))),
            ("proof.depositTx", ["proof", "depositTx"], .string(Base64URL.encode([1, 2, 3]))),
            ("proof.blockHash", ["proof", "blockHash"], .string("AQ==")),
            ("proof.siblings[1]", ["proof", "siblings"], .array([.string(Base64URL.encode(m.siblings[0])), .number("3")])),
            ("proof.siblings", ["proof", "siblings"], .string("x")),
            ("proof.txCount", ["proof", "txCount"], .string("012")),
            ("proof.txPosition", ["proof", "txPosition"], .number("2")),
            ("tx.version", ["tx", "version"], .string("0")),
            ("tx.selector", ["tx", "selector"], .string("BTC/fromEthereum")),
            ("tx.in.t", ["tx", "in", "t"], .object([("struct", .array([]))])),
            ("tx.in.v.payload", ["tx", "in", "v", "payload"], .string("aGVsbG8=")),
            ("tx.in.v.amount", ["tx", "in", "v", "amount"], .string("-1")),
            ("tx.in.v.extra", ["tx", "in", "v", "extra"], .string("")),
            ("tx.in.v.ghash", ["tx", "in", "v", "ghash"], nil),
            ("tx.memo", ["tx", "memo"], .string("hi")),
            ("proof", ["proof"], nil),
            ("proof", ["proof"], .array([])),
            ("tx", ["tx"], .string("x")),
        ]
    }()

    @Test(arguments: 0..<SubmitTxTests.inconsistent.count)
    func inconsistentOrMalformedMintIsRefusedNamingTheField(_ index: Int) async throws {
        let (field, path, value) = Self.inconsistent[index]
        let fake = FakeShardService()
        let r = try await answer(RPCHandler(service: fake), request("ren_submitTx", MintFixture().params.setting(path, to: value)))
        #expect(r.errorCode == -32602)
        #expect(r.errorField == field)
        #expect(r?["result"] == nil)
        #expect(await fake.submitted.isEmpty)
    }

    @Test(arguments: [
        (SubmissionError.duplicate, -32001), (.full(transactions: 5, bytes: 9), -32002), (.tooLarge(bytes: 10, limit: 5), -32003),
        (.invalid(.insufficientConfirmations(required: 6, found: 2)), -32004),
    ])
    func mempoolRefusalsHaveServerCodes(_ refusal: SubmissionError, _ code: Int) async throws {
        let fake = FakeShardService()
        await fake.refuse(with: refusal)
        let handler = RPCHandler(service: fake)
        let mint = MintFixture()
        let r = try await answer(handler, request("ren_submitTx", mint.params))
        #expect(r.errorCode == code)
        #expect(r?["error"]?["message"]?.string == refusal.description)
        // A refused mint is not remembered.
        let q = try await answer(handler, request("ren_queryTx", .object([("txHash", .string(Base64URL.encode(mint.hash)))])))
        #expect(q.errorCode == -32005)
    }

    @Test func resubmittingACommittedMintIsAcceptedAndQueryable() async throws {
        let fake = FakeShardService()
        let mint = MintFixture()
        await fake.commit(mint.committed(signed: true))
        await fake.refuse(with: .invalid(.alreadyMinted(nHash: Hex.encode(mint.input.nhash))))
        let handler = RPCHandler(service: fake)
        let r = try await answer(handler, request("ren_submitTx", mint.params))
        #expect(r?["result"]?["hash"] == .string(Base64URL.encode(mint.hash)))
        let q = try await answer(handler, request("ren_queryTx", .object([("txHash", .string(Base64URL.encode(mint.hash)))])))
        #expect(q?["result"]?["txStatus"] == .string("done"))
    }

    @Test func alreadyMintedUnderOtherParametersStaysAnError() async throws {
        let fake = FakeShardService()
        let mint = MintFixture()
        var committed = mint.committed(signed: true)
        committed.to = [UInt8](repeating: 0xFF, count: 20)
        await fake.commit(committed)
        await fake.refuse(with: .invalid(.alreadyMinted(nHash: Hex.encode(mint.input.nhash))))
        let r = try await answer(RPCHandler(service: fake), request("ren_submitTx", mint.params))
        #expect(r.errorCode == -32004)
    }
}

@Suite struct QueryTxTests {
    func submitted() async throws -> (FakeShardService, RPCHandler, MintFixture) {
        let fake = FakeShardService()
        let handler = RPCHandler(service: fake)
        let mint = MintFixture()
        _ = try await answer(handler, request("ren_submitTx", mint.params))
        return (fake, handler, mint)
    }

    func query(_ handler: RPCHandler, _ hash: [UInt8]) async throws -> JSONValue? {
        try await answer(handler, request("ren_queryTx", .object([("txHash", .string(Base64URL.encode(hash)))])))
    }

    @Test func acceptedButUncommittedIsPending() async throws {
        let (_, handler, mint) = try await submitted()
        let r = try await query(handler, mint.hash)
        #expect(r?["result"]?["txStatus"] == .string("pending"))
        let tx = r?["result"]?["tx"]
        #expect(tx?["hash"] == .string(Base64URL.encode(mint.hash)))
        #expect(tx?["version"] == .string("1"))
        #expect(tx?["selector"] == .string("BTC/toEthereum"))
        #expect(tx?["in"]?["t"] == RenVMMintInput.typeJSON)
        #expect(tx?["in"]?["v"] == mint.input.valueJSON)
        #expect(tx?["out"]?["v"] == .object([]))
    }

    @Test func committedAwaitingSignatureIsExecuting() async throws {
        let (fake, handler, mint) = try await submitted()
        await fake.commit(mint.committed(signed: false))
        let r = try await query(handler, mint.hash)
        #expect(r?["result"]?["txStatus"] == .string("executing"))
        #expect(r?["result"]?["tx"]?["out"]?["v"] == .object([]))
    }

    @Test func signedIsDoneWithTheMintAuthorisation() async throws {
        let (fake, handler, mint) = try await submitted()
        let status = mint.committed(signed: true)
        await fake.commit(status)
        let r = try await query(handler, mint.hash)
        #expect(r?["result"]?["txStatus"] == .string("done"))
        let out = r?["result"]?["tx"]?["out"]?["v"]
        #expect(out?["sig"] == .string(Base64URL.encode(status.authorisation!)))
        #expect(Base64URL.decode(out?["sig"]?.string ?? "")?.count == 65)
        #expect(out?["amount"] == .string("50000"))
        #expect(out?["sighash"] == .string(Base64URL.encode(status.sigHash)))
        #expect(out?["revert"] == .string(""))
    }

    @Test func unknownHashIsNotFound() async throws {
        let (_, handler, _) = try await submitted()
        let r = try await query(handler, [UInt8](repeating: 9, count: 32))
        #expect(r.errorCode == -32005)
    }

    @Test(arguments: [
        JSONValue.object([("txHash", .string("not base64!"))]), .object([("txHash", .string("AQ"))]), .object([]),
        .object([("txHash", .number("1"))]), .object([("txHash", .string(Base64URL.encode([UInt8](repeating: 1, count: 32)))), ("x", .null)]),
    ])
    func malformedQueryIsInvalidParams(_ params: JSONValue) async throws {
        let (_, handler, _) = try await submitted()
        let r = try await answer(handler, request("ren_queryTx", params))
        #expect(r.errorCode == -32602)
    }
}

@Suite struct NodeMethodTests {
    static let header = BlockHeader(version: 4, previousBlockHash: [UInt8](repeating: 1, count: 32),
                                    merkleRoot: [UInt8](repeating: 2, count: 32), time: 1_700_000_000, bits: 0x207F_FFFF, nonce: 3)

    @Test func submitHeadersQueuesAHeaderRelay() async throws {
        let fake = FakeShardService()
        let r = try await answer(RPCHandler(service: fake), request("darknode_submitHeaders",
                                                                     .object([("headers", .array([.string(Hex.encode(Self.header.serialized))]))])))
        let tx = ShardTransaction.bitcoinHeaders([Self.header])
        #expect(r?["result"]?["id"] == .string(Hex.encode(tx.id)))
        #expect(r?["result"]?["kind"] == .string("headers"))
        #expect(await fake.submitted == [tx])
    }

    @Test(arguments: [
        ("headers", JSONValue.array([])), ("headers", .string("00")), ("headers[0]", .array([.string("zz")])),
        ("headers[0]", .array([.string(Hex.encode([UInt8](repeating: 0, count: 79)))])),
        ("headers[0]", .array([.string("0x" + Hex.encode(NodeMethodTests.header.serialized))])),
        ("headers[1]", .array([.string(Hex.encode(NodeMethodTests.header.serialized)), .bool(true)])),
    ])
    func malformedHeadersAreInvalidParams(_ field: String, _ headers: JSONValue) async throws {
        let fake = FakeShardService()
        let r = try await answer(RPCHandler(service: fake), request("darknode_submitHeaders", .object([("headers", headers)])))
        #expect(r.errorCode == -32602)
        #expect(r.errorField == field)
        #expect(await fake.submitted.isEmpty)
    }

    @Test func submitShardTxQueuesTheDecodedTransaction() async throws {
        let fake = FakeShardService()
        let tx = ShardTransaction.mint(MintFixture().expectedRequest)
        let r = try await answer(RPCHandler(service: fake), request("darknode_submitShardTx", .object([("tx", .string(Hex.encode(tx.encoded)))])))
        #expect(r?["result"]?["id"] == .string(Hex.encode(tx.id)))
        #expect(r?["result"]?["kind"] == .string("mint"))
        #expect(await fake.submitted == [tx])
    }

    @Test func submitShardTxRefusesCommitteeTransactions() async throws {
        let fake = FakeShardService()
        let handler = RPCHandler(service: fake)
        let key = try PrivateKey(scalar: Scalar(5)).publicKey
        for tx in [ShardTransaction.shardKey(ShardKeyRegistration(epoch: 0, key: key)),
                   .presignatures(PresignatureBatch(epoch: 0, ids: [[UInt8](repeating: 4, count: 32)]))] {
            let r = try await answer(handler, request("darknode_submitShardTx", .object([("tx", .string(Hex.encode(tx.encoded)))])))
            #expect(r.errorCode == -32602)
            #expect(r.errorField == "tx")
        }
        #expect(await fake.submitted.isEmpty)
    }

    @Test(arguments: ["", "zz", "ff", "0x02", Hex.encode(ShardTransaction.bitcoinHeaders([NodeMethodTests.header]).encoded + [0])])
    func undecodableShardTxIsInvalidParams(_ hex: String) async throws {
        let fake = FakeShardService()
        let r = try await answer(RPCHandler(service: fake), request("darknode_submitShardTx", .object([("tx", .string(hex))])))
        #expect(r.errorCode == -32602)
        #expect(await fake.submitted.isEmpty)
    }

    @Test func duplicateShardTxHasTheDuplicateCode() async throws {
        let fake = FakeShardService()
        await fake.refuse(with: .duplicate)
        let tx = ShardTransaction.bitcoinHeaders([Self.header])
        let r = try await answer(RPCHandler(service: fake), request("darknode_submitShardTx", .object([("tx", .string(Hex.encode(tx.encoded)))])))
        #expect(r.errorCode == -32001)
    }

    @Test func statusReportsTheService() async throws {
        let fake = FakeShardService()
        await fake.setShardKey([2] + [UInt8](repeating: 0xCD, count: 32))
        let r = try await answer(RPCHandler(service: fake), request("darknode_status", nil))
        #expect(r?["result"] == .object([
            ("height", .number("7")), ("shardKey", .string("02" + String(repeating: "cd", count: 32))),
            ("bitcoinTipHeight", .number("120")), ("mempoolTransactions", .number("0")),
        ]))
        let extra = try await answer(RPCHandler(service: fake), request("darknode_status", .object([("verbose", .bool(true))])))
        #expect(extra.errorCode == -32602)
    }
}

@Suite struct EnvelopeTests {
    func expectRefused(_ body: String, code: Int, id: JSONValue = .null) async throws {
        let fake = FakeShardService()
        let r = try await answer(RPCHandler(service: fake), Array(body.utf8))
        #expect(r.errorCode == code, "\(body)")
        #expect(r?["id"] == id, "\(body)")
        #expect(r?["jsonrpc"] == .string("2.0"))
        #expect(await fake.submitted.isEmpty)
    }

    @Test func malformedJSONIsAParseError() async throws {
        try await expectRefused(#"{"jsonrpc":"2.0","method":"ren_submitTx","#, code: -32700)
        try await expectRefused("\u{FEFF}{}", code: -32700)
    }

    @Test func envelopeErrors() async throws {
        try await expectRefused(#"{"jsonrpc":"1.0","id":4,"method":"darknode_status"}"#, code: -32600, id: .number("4"))
        try await expectRefused(#"{"id":4,"method":"darknode_status"}"#, code: -32600, id: .number("4"))
        try await expectRefused(#"{"jsonrpc":"2.0","id":"a","method":5}"#, code: -32600, id: .string("a"))
        try await expectRefused(#"{"jsonrpc":"2.0","id":{},"method":"darknode_status"}"#, code: -32600)
        try await expectRefused(#"{"jsonrpc":"2.0","id":1,"method":"darknode_status","extra":1}"#, code: -32600, id: .number("1"))
        try await expectRefused(#"{"jsonrpc":"2.0","id":1,"method":"darknode_status","params":3}"#, code: -32600, id: .number("1"))
        try await expectRefused(#"5"#, code: -32600)
        try await expectRefused(#"[]"#, code: -32600)
    }

    @Test func unknownMethodIsMethodNotFound() async throws {
        try await expectRefused(#"{"jsonrpc":"2.0","id":12345678901234567890,"method":"ren_queryBlock","params":{}}"#,
                                code: -32601, id: .number("12345678901234567890"))
    }

    @Test func positionalParamsAreInvalidParams() async throws {
        try await expectRefused(#"{"jsonrpc":"2.0","id":2,"method":"ren_queryTx","params":["abc"]}"#, code: -32602, id: .number("2"))
    }

    @Test func batchAnswersEachRequestInOrderAndSkipsNotifications() async throws {
        let fake = FakeShardService()
        let handler = RPCHandler(service: fake)
        let header = NodeMethodTests.header
        let batch = JSONValue.array([
            request("darknode_status", nil, id: .string("a")),
            request("darknode_submitHeaders", .object([("headers", .array([.string(Hex.encode(header.serialized))]))]), id: nil),
            request("nope", nil, id: .number("3")),
            .number("4"),
        ])
        let r = try await answer(handler, batch)
        guard case .array(let items)? = r else {
            Issue.record("batch answer is not an array: \(String(describing: r))")
            return
        }
        #expect(items.count == 3)
        #expect(items[0]["id"] == .string("a"))
        #expect(items[0]["result"]?["height"] == .number("7"))
        #expect(Optional(items[1]).errorCode == -32601)
        #expect(Optional(items[2]).errorCode == -32600)
        // The notification ran.
        #expect(await fake.submitted == [.bitcoinHeaders([header])])
    }

    @Test func onlyNotificationsGetNoBody() async throws {
        let fake = FakeShardService()
        let handler = RPCHandler(service: fake)
        #expect(await handler.handle(request("darknode_status", nil, id: nil).serialized) == nil)
        #expect(await handler.handle(JSONValue.array([request("nope", nil, id: nil)]).serialized) == nil)
    }

    @Test func oversizeBatchIsRefusedWhole() async throws {
        let fake = FakeShardService()
        var limits = RPCLimits()
        limits.batchMax = 2
        let handler = RPCHandler(service: fake, limits: limits)
        let header = NodeMethodTests.header
        let one = request("darknode_submitHeaders", .object([("headers", .array([.string(Hex.encode(header.serialized))]))]))
        let r = try await answer(handler, JSONValue.array([one, one, one]))
        #expect(r.errorCode == -32600)
        #expect(await fake.submitted.isEmpty)
    }
}
