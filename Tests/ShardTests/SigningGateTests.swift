import Bitcoin
import Crypto
import Secp256k1
import Testing
import TestSupport

@testable import Shard

/// The gate is the only path to a signature share: each case here is a request the committee must never sign.
@Suite(.dedicatedThread) struct SigningGateTests {
    /// Two mints committed, two presignatures assigned in commit order.
    func twoAssignedMints() throws -> (ShardFixture, [SigningRequest]) {
        var f = try ShardFixture()
        try f.registerKey()
        let a = f.deposit(1), b = f.deposit(2)
        try f.mineAndRelay(3, transactions: [a.transaction, b.transaction])
        try f.commit([.mint(try f.mintRequest(a, in: f.minedBlocks[0])), .mint(try f.mintRequest(b, in: f.minedBlocks[0]))])
        try f.commit([.presignatures(PresignatureBatch(epoch: 0, ids: f.presignatureIDs(3)))])
        return (f, f.state.requestsToSign)
    }

    @Test func committedRequestWithItsPresignatureIsAuthorised() throws {
        let (f, requests) = try twoAssignedMints()
        #expect(requests.count == 2)
        for r in requests {
            let p = try #require(r.presignature)
            #expect(try f.state.authorizeSigning(presignature: p, digest: r.digest, epoch: 0) == r)
        }
    }

    @Test func uncommittedRequestIsNeverSigned() throws {
        let (f, _) = try twoAssignedMints()
        // The third presignature is registered but assigned to nothing.
        let spare = Array(SHA256.hash(data: Array("presignature 2".utf8)))
        #expect(throws: ShardError.presignatureNotAssigned) {
            try f.state.authorizeSigning(presignature: spare, digest: [UInt8](repeating: 1, count: 32), epoch: 0)
        }
        #expect(throws: ShardError.unknownRequest) {
            try f.state.authorizeSigning(request: [UInt8](repeating: 9, count: 32), presignature: spare, digest: [UInt8](repeating: 1, count: 32), epoch: 0)
        }
    }

    @Test func forgedDigestIsNeverSigned() throws {
        let (f, requests) = try twoAssignedMints()
        let r = requests[0]
        var forged = r.digest
        forged[0] ^= 1
        #expect(throws: ShardError.digestMismatch) { try f.state.authorizeSigning(presignature: r.presignature!, digest: forged, epoch: 0) }
    }

    @Test func presignatureAssignedToAnotherRequestIsRefused() throws {
        let (f, requests) = try twoAssignedMints()
        let (a, b) = (requests[0], requests[1])
        // b's digest with a's presignature: the presignature belongs to a.
        #expect(throws: ShardError.digestMismatch) { try f.state.authorizeSigning(presignature: a.presignature!, digest: b.digest, epoch: 0) }
        #expect(throws: ShardError.presignatureAssignedElsewhere) {
            try f.state.authorizeSigning(request: b.id, presignature: a.presignature!, digest: b.digest, epoch: 0)
        }
    }

    @Test func signedRequestIsNeverSignedAgain() throws {
        var (f, requests) = try twoAssignedMints()
        try f.commit([.signatures(try f.signAssigned())])
        for r in requests {
            #expect(throws: ShardError.presignatureNotAssigned) { try f.state.authorizeSigning(presignature: r.presignature!, digest: r.digest, epoch: 0) }
        }
        #expect(try f.refusal(of: .signatures(try requests.map { SignatureResult(requestID: $0.id, signature: try f.shardKey.signature(for: $0.digest)) }))
                == .requestAlreadySigned)
    }

    @Test func otherEpochIsRefused() throws {
        let (f, requests) = try twoAssignedMints()
        #expect(throws: ShardError.wrongEpoch(expected: 0, found: 1)) {
            try f.state.authorizeSigning(presignature: requests[0].presignature!, digest: requests[0].digest, epoch: 1)
        }
    }

    @Test func signaturesAreCheckedBeforeTheyCount() throws {
        var (f, requests) = try twoAssignedMints()
        let r = requests[0]
        // Signed by a key that is not the shard's.
        #expect(try f.refusal(of: .signatures([SignatureResult(requestID: r.id, signature: try testKey(8).signature(for: r.digest))])) == .invalidSignature)
        // High-S form of a valid signature (malleated): refused, Bitcoin would refuse it too.
        let good = try f.shardKey.signature(for: r.digest)
        let highS = ECDSASignature(r: good.r, s: -good.s)
        #expect(highS.isHighS)
        #expect(try f.refusal(of: .signatures([SignatureResult(requestID: r.id, signature: highS)])) == .invalidSignature)
        // A request that does not exist.
        #expect(try f.refusal(of: .signatures([SignatureResult(requestID: [UInt8](repeating: 3, count: 32), signature: good)])) == .unknownRequest)
        #expect(try f.refusal(of: .signatures([SignatureResult(requestID: r.id, signature: good)])) == nil)
    }

    @Test func presignatureIsNeverRegisteredTwice() throws {
        var f = try ShardFixture()
        let ids = f.presignatureIDs(2)
        try f.commit([.presignatures(PresignatureBatch(epoch: 0, ids: ids))])
        #expect(try f.refusal(of: .presignatures(PresignatureBatch(epoch: 0, ids: [ids[1]]))) == .duplicatePresignature)
        let fresh = f.presignatureIDs(1)
        #expect(try f.refusal(of: .presignatures(PresignatureBatch(epoch: 0, ids: fresh + fresh))) == .duplicatePresignature)
        #expect(try f.refusal(of: .presignatures(PresignatureBatch(epoch: 3, ids: f.presignatureIDs(1)))) == .wrongEpoch(expected: 0, found: 3))
    }

    @Test func requestWithoutPresignatureCannotBeSigned() throws {
        var f = try ShardFixture()
        try f.registerKey()
        let d = f.deposit(1)
        try f.mineAndRelay(3, transactions: [d.transaction])
        try f.commit([.mint(try f.mintRequest(d, in: f.minedBlocks[0]))])
        let r = try #require(f.state.request(id: try f.mintRequest(d, in: f.minedBlocks[0]).nHash()))
        #expect(r.presignature == nil)
        #expect(try f.refusal(of: .signatures([SignatureResult(requestID: r.id, signature: try f.shardKey.signature(for: r.digest))])) == .presignatureNotAssigned)
    }
}
