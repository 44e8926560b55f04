import Secp256k1

/// The byte form a node seals to its store, so a restarted member still holds its halves of the presignatures
/// consensus registered (without them it cannot contribute a share for them, and a shard where more than t members
/// restarted would sign nothing until the pool refilled). Only ever written to sealed storage: it holds k⁻¹_i,
/// (k⁻¹x)_i and ζ_i.
///
/// Reuse is prevented by replicated state, not by this record: a member signs only the request consensus assigned to
/// a presignature, so a record resurrected by a rolled-back disk can only sign the same digest again, which gives the
/// same share.
///
/// Layout (big-endian; a point is a length byte, then SEC1 uncompressed or [0] for the identity):
/// `version u8 = 1 ‖ id 32 ‖ session 32 ‖ instance u32 ‖ epoch u64 ‖ threshold u32 ‖ index u32 ‖ R ‖ r 32 ‖ w⁻¹ 32 ‖
///  u16 count ‖ C_b points ‖ u16 count ‖ C_ζ points ‖ u16 count ‖ (party u32 ‖ P' ‖ M ‖ M2 ‖ y ‖ w ‖ w2)… ‖
///  k⁻¹ (value ‖ blinding) ‖ k⁻¹x (value ‖ blinding) ‖ ζ (value ‖ blinding)`.
///
/// Decoding checks the shape, every point and scalar, that the id is the one its session and instance derive, and
/// that each secret share opens the commitment the public data implies for this member — so a damaged or foreign
/// record is refused rather than used.
extension Presignature {
    public var sealedEncoding: [UInt8] {
        var out: [UInt8] = [1]
        let p = publicData
        out += p.id.bytes
        out += p.session.bytes
        out += SealedBytes.u32(p.instance)
        out += SealedBytes.u64(p.epoch)
        out += SealedBytes.u32(p.threshold)
        out += SealedBytes.u32(index)
        out += SealedBytes.point(p.nonce)
        out += p.r.bytes
        out += p.wInverse.bytes
        for list in [p.bCommitment, p.maskCommitment] {
            out += SealedBytes.u16(list.count)
            for point in list { out += SealedBytes.point(point) }
        }
        out += SealedBytes.u16(p.keyProducts.count)
        for (party, claim) in p.keyProducts.sorted(by: { $0.key < $1.key }) {
            out += SealedBytes.u32(party)
            out += SealedBytes.point(claim.commitment)
            out += SealedBytes.point(claim.proof.m) + SealedBytes.point(claim.proof.m2)
            out += claim.proof.y.bytes + claim.proof.w.bytes + claim.proof.w2.bytes
        }
        for share in [kInverse, keyProduct, mask] { out += share.value.bytes + share.blinding.bytes }
        return out
    }

    public init(sealedEncoding bytes: [UInt8]) throws(MPCError) {
        var reader = SealedBytes.Reader(bytes: bytes)
        guard try reader.u8() == 1 else { throw .decoding("presignature record version") }
        let id = try PresignatureID(bytes: reader.take(32))
        let session = try SessionID(bytes: reader.take(32))
        let instance = try reader.int(4), epoch = try reader.u64(), threshold = try reader.int(4), index = try reader.int(4)
        guard threshold >= 1, threshold < Limits.partiesMax, (1...Limits.partiesMax).contains(index), instance < Limits.presignaturesPerBatchMax
        else { throw .decoding("presignature record shape") }
        guard PresignatureID(session: session, instance: instance) == id else { throw .decoding("presignature id does not match its session") }
        let nonce = try reader.point(), r = try reader.scalar(), wInverse = try reader.scalar()
        let bCommitment = try reader.points(count: threshold + 1)
        let maskCommitment = try reader.points(count: 2 * threshold + 1)
        let claims = try reader.int(2)
        guard claims <= Limits.partiesMax else { throw .decoding("presignature record shape") }
        var keyProducts: [PartyIndex: KeyProductClaim] = [:]
        for _ in 0..<claims {
            let party = try reader.int(4)
            guard (1...Limits.partiesMax).contains(party), keyProducts[party] == nil else { throw .decoding("presignature record party") }
            let commitment = try reader.point()
            let proof = ProductProof(m: try reader.point(), m2: try reader.point(), y: try reader.scalar(), w: try reader.scalar(), w2: try reader.scalar())
            keyProducts[party] = KeyProductClaim(commitment: commitment, proof: proof)
        }
        var shares: [VerifiableShare] = []
        for _ in 0..<3 { shares.append(VerifiableShare(value: try reader.scalar(), blinding: try reader.scalar())) }
        guard reader.isAtEnd else { throw .decoding("presignature record has trailing bytes") }
        guard let x = nonce.xCoordinate, r == Scalar(reducing: x), let ownClaim = keyProducts[index] else {
            throw .decoding("presignature record public data")
        }
        let publicData = PresignaturePublic(id: id, session: session, instance: instance, epoch: epoch, threshold: threshold, nonce: nonce, r: r,
                                            wInverse: wInverse, bCommitment: bCommitment, maskCommitment: maskCommitment, keyProducts: keyProducts)
        // Each share opens what the public data commits this member to: [k⁻¹] = w⁻¹·[b], [k⁻¹x] = w⁻¹·[bx], [ζ].
        let expected = [ExponentPolynomial.evaluate(bCommitment, at: index).timesPublic(wInverse),
                        ownClaim.commitment.timesPublic(wInverse),
                        ExponentPolynomial.evaluate(maskCommitment, at: index)]
        guard zip(shares, expected).allSatisfy({ $0.commitment == $1 }) else {
            throw .decoding("presignature record shares do not open their commitments")
        }
        self.init(publicData: publicData, index: index, kInverse: shares[0], keyProduct: shares[1], mask: shares[2])
    }
}

/// Fixed-width integers and points for the sealed records (key shares and presignatures).
enum SealedBytes {
    static func u16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    static func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    static func u64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }
    static func point(_ p: Point) -> [UInt8] {
        let encoded = p.serialized(compressed: false)
        return [UInt8(encoded.count)] + encoded
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var isAtEnd: Bool { offset == bytes.count }

        mutating func take(_ count: Int) throws(MPCError) -> [UInt8] {
            guard count >= 0, bytes.count - offset >= count else { throw .decoding("presignature record truncated") }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        mutating func u8() throws(MPCError) -> UInt8 { try take(1)[0] }
        mutating func int(_ width: Int) throws(MPCError) -> Int { try take(width).reduce(0) { $0 << 8 | Int($1) } }
        mutating func u64() throws(MPCError) -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }

        mutating func scalar() throws(MPCError) -> Scalar {
            do { return try Scalar(bytes: take(32)) } catch { throw .decoding("presignature record scalar") }
        }

        mutating func point() throws(MPCError) -> Point {
            let length = Int(try u8())
            guard length == 1 || length == 65 else { throw .decoding("presignature record point length") }
            do { return try Point(encoded: take(length)) } catch { throw .decoding("presignature record point") }
        }

        mutating func points(count expected: Int) throws(MPCError) -> [Point] {
            guard try int(2) == expected else { throw .decoding("presignature record commitment count") }
            var result: [Point] = []
            for _ in 0..<expected { result.append(try point()) }
            return result
        }
    }
}
