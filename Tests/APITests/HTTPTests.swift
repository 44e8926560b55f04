import API
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP layer: a real server on a loopback port picked by the system, driven with URLSession.
@Suite struct HTTPTests {
    func withServer(_ fake: FakeShardService, limits: RPCLimits = RPCLimits(),
                    _ body: (URL) async throws -> Void) async throws {
        let server = try await RPCServer.start(handler: RPCHandler(service: fake, limits: limits), host: "127.0.0.1", port: 0)
        do {
            try await body(URL(string: "http://127.0.0.1:\(server.port)/")!)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func send(_ url: URL, method: String = "POST", _ body: [UInt8]) async throws -> (status: Int, contentType: String?, body: [UInt8]) {
        var request = URLRequest(url: url)
        request.httpMethod = method
        if method == "POST" { request.httpBody = Data(body) }
        // The server shares this process's cooperative pool with every other test running in parallel; on a loaded
        // 2-core CI machine an answer can take far longer than URLSession's 60 s default (seen once). A hang still ends.
        request.timeoutInterval = 300
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? -1, http?.value(forHTTPHeaderField: "Content-Type"), Array(data))
    }

    @Test func postedRequestIsAnsweredWithJSON() async throws {
        let fake = FakeShardService()
        let mint = MintFixture()
        try await withServer(fake) { url in
            let r = try await send(url, request("ren_submitTx", mint.params).serialized)
            #expect(r.status == 200)
            #expect(r.contentType == "application/json")
            #expect(try JSONParser.parse(r.body)["result"]?["hash"] == .string(Base64URL.encode(mint.hash)))
            // The same connection may be reused for a second request.
            let q = try await send(url, request("ren_queryTx", .object([("txHash", .string(Base64URL.encode(mint.hash)))])).serialized)
            #expect(try JSONParser.parse(q.body)["result"]?["txStatus"] == .string("pending"))
        }
        #expect(await fake.submitted.count == 1)
    }

    @Test func jsonRPCErrorsTravelWithStatus200() async throws {
        let fake = FakeShardService()
        try await withServer(fake) { url in
            let r = try await send(url, Array("{not json".utf8))
            #expect(r.status == 200)
            #expect(Optional(try JSONParser.parse(r.body)).errorCode == -32700)
        }
    }

    @Test func oversizeBodyIs413AndNeverParsed() async throws {
        let fake = FakeShardService()
        var limits = RPCLimits()
        limits.bodyBytesMax = 4_096
        let mint = MintFixture()
        // A valid request padded past the limit with whitespace: it would succeed if it were read.
        let body = request("ren_submitTx", mint.params).serialized + [UInt8](repeating: 0x20, count: 100_000)
        try await withServer(fake, limits: limits) { url in
            let r = try await send(url, body)
            #expect(r.status == 413)
            #expect(Optional(try JSONParser.parse(r.body)).errorCode == -32600)
        }
        #expect(await fake.submitted.isEmpty)
    }

    @Test func bodyAtTheLimitIsRead() async throws {
        let fake = FakeShardService()
        let mint = MintFixture()
        let body = request("ren_submitTx", mint.params).serialized + [UInt8](repeating: 0x20, count: 10)
        var limits = RPCLimits()
        limits.bodyBytesMax = body.count
        try await withServer(fake, limits: limits) { url in
            let r = try await send(url, body)
            #expect(r.status == 200)
        }
        #expect(await fake.submitted.count == 1)
    }

    @Test func notificationsGet204() async throws {
        let fake = FakeShardService()
        try await withServer(fake) { url in
            let r = try await send(url, request("darknode_status", nil, id: nil).serialized)
            #expect(r.status == 204)
            #expect(r.body.isEmpty)
        }
    }

    @Test func onlyPostToTheRootIsServed() async throws {
        let fake = FakeShardService()
        try await withServer(fake) { url in
            let get = try await send(url, method: "GET", [])
            #expect(get.status == 405)
            let elsewhere = try await send(url.appendingPathComponent("rpc"), request("darknode_status", nil).serialized)
            #expect(elsewhere.status == 404)
        }
    }
}
