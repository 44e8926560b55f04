// Goal: RenVM's hashes are byte-exact. Method: the expected values from ren-js v3's own unit tests
// (renproject/ren-js packages/utils test/renVMHashes.spec.ts), and an ecrecover round trip of the mint digest.
import Bitcoin
import Secp256k1
import Testing
import TestSupport

@Suite(.dedicatedThread) struct RenVMTests {
    let payload = [UInt8](repeating: 0, count: 31) + [1]

    @Test func sHashAndPHash() {
        #expect(Hex.encode(RenVMHashes.sHash(selector: "BTC/toEthereum")) == "1fb79ec5bb04cf1aa8eb8fdeda8d3f986e5ebaba72d0e12048cec0a95188fe5e")
        #expect(Hex.encode(RenVMHashes.sHash(asset: "ZEC", toChain: "Fantom")) == "2cb58c03e9b6bb1f395dd8a458fc8e76767253ae17b364c817871899e2cf48ad")
        #expect(RenVMHashes.sHash(selector: "BTC/fromFantomToEthereum") == RenVMHashes.sHash(selector: "BTC/toEthereum"))
        #expect(Hex.encode(RenVMHashes.pHash(payload: payload)) == "b10e2d527612073b26eecdfd717e6a320cf44b4afac2b0732d9fcbe2b7fa0cf6")
    }

    @Test func gHashAndNHash() throws {
        // ren-js's vector hashes pHash ‖ 20 zero bytes ‖ 20 zero bytes ‖ 32-byte zero nonce. The same bytes come
        // from a 32-byte zero sHash and an 8-byte zero `to`.
        let g = try RenVMHashes.gHash(pHash: RenVMHashes.pHash(payload: payload), sHash: [UInt8](repeating: 0, count: 32),
                                      to: [UInt8](repeating: 0, count: 8), nonce: [UInt8](repeating: 0, count: 32))
        #expect(Hex.encode(g) == "4b606c6a759e54ae3332637bd88050fff7be648b58d03f36491e277f94062ea9")
        let n = try RenVMHashes.nHash(nonce: [UInt8](repeating: 0, count: 32), txid: [UInt8](repeating: 0, count: 32), outputIndex: 1)
        #expect(Hex.encode(n) == "b92afca8929110484eee9b91373c9ed41205b90ce83867e5e9363041a70cfe3e")
        #expect(throws: BitcoinError.self) { try RenVMHashes.nHash(nonce: [1], txid: [UInt8](repeating: 0, count: 32), outputIndex: 0) }
    }

    @Test func mintDigestRecoversToTheAuthority() throws {
        let digest = try RenVMHashes.mintDigest(pHash: [UInt8](repeating: 0x12, count: 32), amount: 102,
                                                sHash: [UInt8](repeating: 0x56, count: 32), to: [UInt8](repeating: 0x34, count: 20),
                                                nHash: [UInt8](repeating: 0x78, count: 32))
        #expect(Hex.encode(digest) == "cc6eacb85506fcb76a1951e79dfcc42a10751ff04bbfe5377fb06a1ecbe76e54")
        let authority = testKey(7)
        let signature = try RenVMHashes.signMint(digest: digest, key: authority)
        #expect(signature.count == 65 && (signature[64] == 27 || signature[64] == 28))
        let recovered = try RecoverableSignature(evm: signature).recoverPublicKey(digest: digest)
        #expect(recovered.evmAddress == authority.publicKey.evmAddress)
    }
}
