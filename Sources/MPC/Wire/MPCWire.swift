import Crypto
import Foundation
import Secp256k1
import SwiftProtobuf
import WireCodec

/// The wire format of MPC messages: `Protos/darknode/v1/mpc.proto`, version 1.
///
/// Decoding validates everything a session would otherwise have to trust: the byte count before parsing
/// (`Limits.messageBytesMax`), the version, party indices and rounds, every point (uncompressed, on the curve; the
/// identity only where the protocol allows it), every scalar (below the group order), fixed lengths (session id, digests,
/// presignature ids) and every count (bounded by `Limits`); unknown fields and a missing payload are refused.
/// Sessions then check counts against their own parameters. The decoded message carries the SHA-256 of the bytes
/// it came from, so a sender's two different encodings for one round are equivocation even if they decode alike.
public enum MPCWire {
    public static let version: UInt32 = 1
    /// Rounds of any MPC protocol (key generation has the most: 5).
    static let roundMax: UInt32 = 15
    static let pointsPerVectorMax = 2 * (Limits.partiesMax - 1) / 3 + 1
    static let sharingsMax = PresignSession.sharingsPerInstance * Limits.presignaturesPerBatchMax
    static let ciphertextBytesMax = ShareEncryption.ciphertextBytes(sharings: sharingsMax)

    // MARK: Encoding

    public static func encode(_ message: MPCMessage) -> [UInt8] {
        var wire = Darknode_V1_MPCMessage()
        wire.version = version
        wire.sessionID = Data(message.session.bytes)
        wire.sender = UInt32(message.sender)
        wire.recipient = UInt32(message.recipient ?? 0)
        wire.round = UInt32(message.round)
        switch message.payload {
        case .dealing(let d):
            var dealing = Darknode_V1_Dealing()
            dealing.commitments = d.commitments.map(pointList)
            dealing.ephemeralKey = Data(Wire.uncompressedPointOrIdentity(d.ephemeralKey))
            dealing.ciphertexts = d.ciphertexts.map { Data($0) }
            wire.dealing = dealing
        case .complaints(let list):
            wire.complaints = complaints(list)
        case .shareEvidence(let list):
            wire.shareEvidence = complaints(list)
        case .feldmanReveal(let points):
            wire.feldmanReveal = pointList(points)
        case .revealComplaints(let list):
            var out = Darknode_V1_RevealComplaints()
            out.complaints = list.map { c in
                var r = Darknode_V1_RevealComplaint()
                r.dealer = UInt32(c.dealer)
                r.share = share(c.share)
                return r
            }
            wire.revealComplaints = out
        case .reconstruction(let list):
            var out = Darknode_V1_Reconstruction()
            out.shares = list.map { c in
                var r = Darknode_V1_ReconstructionShare()
                r.dealer = UInt32(c.dealer)
                r.share = share(c.share)
                return r
            }
            wire.reconstruction = out
        case .presignOpenings(let list):
            var out = Darknode_V1_PresignOpenings()
            out.openings = list.map { o in
                var r = Darknode_V1_PresignOpening()
                r.nonceBlinding = Data(o.nonceBlinding.bytes)
                r.maskedProduct = share(o.maskedProduct)
                r.productCommitment = Data(Wire.uncompressedPointOrIdentity(o.productCommitment))
                r.productProof = proof(o.productProof)
                r.keyProductCommitment = Data(Wire.uncompressedPointOrIdentity(o.keyProductCommitment))
                r.keyProductProof = proof(o.keyProductProof)
                return r
            }
            wire.presignOpenings = out
        case .roundTimeout:
            wire.roundTimeout = Darknode_V1_RoundTimeout()
        case .signatureShare(let s):
            var out = Darknode_V1_SignatureShare()
            out.presignatureID = Data(s.presignatureID.bytes)
            out.epoch = s.epoch
            out.signer = UInt32(s.signer)
            out.digest = Data(s.digest)
            out.value = Data(s.value.bytes)
            out.blinding = Data(s.blinding.bytes)
            wire.signatureShare = out
        }
        do {
            return try wire.serializedBytes()
        } catch {
            // Serialisation fails only for unset required fields, which proto3 does not have.
            preconditionFailure("protobuf serialisation of an MPC message failed: \(error)")
        }
    }

    private static func pointList(_ points: [Point]) -> Darknode_V1_PointList {
        var list = Darknode_V1_PointList()
        list.points = points.map { Data(Wire.uncompressedPointOrIdentity($0)) }
        return list
    }

    private static func share(_ s: VerifiableShare) -> Darknode_V1_VerifiableShare {
        var out = Darknode_V1_VerifiableShare()
        out.value = Data(s.value.bytes)
        out.blinding = Data(s.blinding.bytes)
        return out
    }

    private static func complaints(_ list: [ShareDisclosure]) -> Darknode_V1_Complaints {
        var out = Darknode_V1_Complaints()
        out.disclosures = list.map { d in
            var r = Darknode_V1_ShareDisclosure()
            r.dealer = UInt32(d.dealer)
            r.sharedPoint = Data(Wire.uncompressedPointOrIdentity(d.sharedPoint))
            r.challenge = Data(d.proof.challenge.bytes)
            r.response = Data(d.proof.response.bytes)
            return r
        }
        return out
    }

    private static func proof(_ p: ProductProof) -> Darknode_V1_ProductProof {
        var out = Darknode_V1_ProductProof()
        out.m = Data(Wire.uncompressedPointOrIdentity(p.m))
        out.m2 = Data(Wire.uncompressedPointOrIdentity(p.m2))
        out.y = Data(p.y.bytes)
        out.w = Data(p.w.bytes)
        out.w2 = Data(p.w2.bytes)
        return out
    }

    // MARK: Decoding

    /// Decodes and validates one message. Every failure is a typed `MPCError.decoding`.
    public static func decode(_ bytes: [UInt8]) throws(MPCError) -> MPCMessage {
        guard bytes.count <= Limits.messageBytesMax else { throw .decoding("message exceeds \(Limits.messageBytesMax) bytes") }
        let wire: Darknode_V1_MPCMessage
        do {
            wire = try Darknode_V1_MPCMessage(serializedBytes: bytes)
        } catch {
            throw .decoding("not a valid MPCMessage encoding")
        }
        try known(wire)
        guard wire.version == version else { throw .decoding("unknown version \(wire.version)") }
        let session = try SessionID(bytes: Array(wire.sessionID))
        let sender = try party(wire.sender)
        let recipient = wire.recipient == 0 ? nil : try party(wire.recipient)
        guard (1...roundMax).contains(wire.round) else { throw .decoding("round out of range") }
        guard let payload = wire.payload else { throw .decoding("no payload") }
        let decoded: MPCPayload
        switch payload {
        case .dealing(let d):
            try known(d)
            try bound(d.commitments.count, sharingsMax, "commitment vectors")
            try bound(d.ciphertexts.count, Limits.partiesMax, "ciphertexts")
            var commitments: [[Point]] = []
            commitments.reserveCapacity(d.commitments.count)
            for list in d.commitments { commitments.append(try points(list, max: pointsPerVectorMax, identity: true)) }
            var ciphertexts: [[UInt8]] = []
            for c in d.ciphertexts {
                try bound(c.count, ciphertextBytesMax, "ciphertext bytes")
                ciphertexts.append(Array(c))
            }
            decoded = .dealing(
                Dealing(commitments: commitments, ephemeralKey: try point(d.ephemeralKey, identity: false),
                        ciphertexts: ciphertexts))
        case .complaints(let c):
            decoded = .complaints(try disclosures(c))
        case .shareEvidence(let c):
            decoded = .shareEvidence(try disclosures(c))
        case .feldmanReveal(let list):
            decoded = .feldmanReveal(try points(list, max: pointsPerVectorMax, identity: true))
        case .revealComplaints(let list):
            try known(list)
            try bound(list.complaints.count, Limits.partiesMax, "reveal complaints")
            var out: [RevealComplaint] = []
            for c in list.complaints {
                try known(c)
                out.append(RevealComplaint(dealer: try party(c.dealer), share: try share(c.share, present: c.hasShare)))
            }
            decoded = .revealComplaints(out)
        case .reconstruction(let list):
            try known(list)
            try bound(list.shares.count, Limits.partiesMax, "reconstruction shares")
            var out: [ReconstructionShare] = []
            for c in list.shares {
                try known(c)
                out.append(ReconstructionShare(dealer: try party(c.dealer), share: try share(c.share, present: c.hasShare)))
            }
            decoded = .reconstruction(out)
        case .presignOpenings(let list):
            try known(list)
            try bound(list.openings.count, Limits.presignaturesPerBatchMax, "openings")
            var out: [PresignOpening] = []
            out.reserveCapacity(list.openings.count)
            for o in list.openings {
                try known(o)
                guard o.hasProductProof, o.hasKeyProductProof else { throw .decoding("opening without proofs") }
                out.append(
                    PresignOpening(
                        nonceBlinding: try scalar(o.nonceBlinding),
                        maskedProduct: try share(o.maskedProduct, present: o.hasMaskedProduct),
                        productCommitment: try point(o.productCommitment, identity: true),
                        productProof: try proof(o.productProof),
                        keyProductCommitment: try point(o.keyProductCommitment, identity: true),
                        keyProductProof: try proof(o.keyProductProof)))
            }
            decoded = .presignOpenings(out)
        case .roundTimeout(let r):
            try known(r)
            decoded = .roundTimeout
        case .signatureShare(let s):
            try known(s)
            guard s.digest.count == 32 else { throw .decoding("digest must be 32 bytes") }
            decoded = .signatureShare(
                SignatureShare(
                    presignatureID: try PresignatureID(bytes: Array(s.presignatureID)), epoch: s.epoch,
                    signer: try party(s.signer), digest: Array(s.digest), value: try scalar(s.value),
                    blinding: try scalar(s.blinding)))
        }
        return MPCMessage(
            session: session, sender: sender, recipient: recipient, round: Int(wire.round), payload: decoded,
            receivedDigest: Array(SHA256.hash(data: bytes)))
    }

    private static func known(_ message: some SwiftProtobuf.Message) throws(MPCError) {
        guard message.unknownFields.data.isEmpty else { throw .decoding("unknown field") }
    }

    private static func bound(_ count: Int, _ max: Int, _ what: String) throws(MPCError) {
        guard count <= max else { throw .decoding("too many \(what): \(count) > \(max)") }
    }

    private static func party(_ value: UInt32) throws(MPCError) -> PartyIndex {
        guard value >= 1, value <= UInt32(Limits.partiesMax) else { throw .decoding("party index out of range") }
        return Int(value)
    }

    private static func scalar(_ data: Data) throws(MPCError) -> Scalar {
        guard data.count == 32 else { throw .decoding("scalar must be 32 bytes") }
        do {
            return try Scalar(bytes: Array(data))
        } catch {
            throw .decoding("scalar not below the group order")
        }
    }

    /// 65-byte uncompressed point (04 ‖ x ‖ y) on the curve, or [0x00] for the identity when `identity` allows
    /// it. Uncompressed because a reader checks y² = x³ + 7 with a few field operations, where a compressed point
    /// costs a square root: a presigning dealing at n = 13 carries 26 points per presignature from each of 13
    /// dealers, and decompressing them was a visible share of one party's CPU time.
    private static func point(_ data: Data, identity: Bool) throws(MPCError) -> Point {
        if identity, data.count == 1, data.first == 0 { return .identity }
        guard data.count == 65, data.first == 0x04 else { throw .decoding("point must be 65 bytes, 04 ‖ x ‖ y") }
        do {
            return try Point(publicKeyEncoding: Array(data))
        } catch {
            throw .decoding("point not on the curve")
        }
    }

    private static func points(_ list: Darknode_V1_PointList, max: Int, identity: Bool) throws(MPCError) -> [Point] {
        try known(list)
        try bound(list.points.count, max, "points")
        var out: [Point] = []
        out.reserveCapacity(list.points.count)
        for p in list.points { out.append(try point(p, identity: identity)) }
        return out
    }

    private static func share(_ s: Darknode_V1_VerifiableShare, present: Bool) throws(MPCError) -> VerifiableShare {
        guard present else { throw .decoding("missing share") }
        try known(s)
        return VerifiableShare(value: try scalar(s.value), blinding: try scalar(s.blinding))
    }

    private static func disclosures(_ c: Darknode_V1_Complaints) throws(MPCError) -> [ShareDisclosure] {
        try known(c)
        try bound(c.disclosures.count, Limits.partiesMax, "disclosures")
        var out: [ShareDisclosure] = []
        for d in c.disclosures {
            try known(d)
            out.append(
                ShareDisclosure(
                    dealer: try party(d.dealer), sharedPoint: try point(d.sharedPoint, identity: false),
                    proof: EqualityProof(challenge: try scalar(d.challenge), response: try scalar(d.response))))
        }
        return out
    }

    private static func proof(_ p: Darknode_V1_ProductProof) throws(MPCError) -> ProductProof {
        try known(p)
        return ProductProof(
            m: try point(p.m, identity: true), m2: try point(p.m2, identity: true), y: try scalar(p.y),
            w: try scalar(p.w), w2: try scalar(p.w2))
    }
}
