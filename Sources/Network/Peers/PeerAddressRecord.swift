import Foundation
import Secp256k1
import WireCodec

/// Why a peer address record was refused.
public enum PeerAddressError: Error, Equatable, Sendable {
    /// The signature envelope did not verify (see the wrapped reason).
    case signature(SignedPayloadError)
    /// The signer is not the identity the record names: a node may only vouch for its own address.
    case signerMismatch
    /// Host empty or longer than 253 bytes, or port 0.
    case invalidAddress
    /// Older than the configured maximum age, or more than a minute in the future.
    case stale
}

/// A peer's signed claim of where it listens. RenVM's Airwave accepted such addresses unsigned, which let
/// anyone poison peer tables; here every record is signed by the identity it names, and the newest wins.
public struct PeerAddressRecord: Sendable, Hashable {
    public static let domain = "darknode/peer-address/v1"

    public let peer: PeerID
    public let host: String
    public let port: UInt16
    public let timestampMilliseconds: UInt64
    /// The signed form, kept as received so it can be forwarded byte for byte.
    public let signed: Darknode_V1_SignedPayload

    /// Signs a record for our own address.
    public static func make(identity: PrivateKey, host: String, port: UInt16, timestampMilliseconds: UInt64) throws
        -> PeerAddressRecord
    {
        var address = Darknode_V1_PeerAddress()
        address.identityKey = Data(identity.publicKey.compressed)
        address.host = host
        address.port = UInt32(port)
        address.timestampMs = timestampMilliseconds
        let signed = try Darknode_V1_SignedPayload.signing(address, domain: domain, with: identity)
        return try PeerAddressRecord(verifying: signed, nowMilliseconds: timestampMilliseconds, maximumAge: nil)
    }

    /// Verifies a received record: signature, signer = named identity, sane address, freshness. Times on the wire
    /// (and `nowMilliseconds`) are wall-clock milliseconds since the Unix epoch, the signed format; records older
    /// than `maximumAge` are stale (nil: any age).
    public init(verifying signed: Darknode_V1_SignedPayload, nowMilliseconds: UInt64, maximumAge: Duration?) throws(PeerAddressError) {
        let signer: PublicKey
        let address: Darknode_V1_PeerAddress
        do {
            (signer, address) = try signed.verified(as: Darknode_V1_PeerAddress.self, domain: Self.domain)
        } catch {
            throw .signature(error)
        }
        guard Array(address.identityKey) == signer.compressed else { throw .signerMismatch }
        guard !address.host.isEmpty, address.host.utf8.count <= 253, address.port > 0, address.port <= 65_535 else {
            throw .invalidAddress
        }
        let futureSlack: UInt64 = 60_000
        guard address.timestampMs <= nowMilliseconds &+ futureSlack else { throw .stale }
        if let maximumAge, nowMilliseconds > address.timestampMs,
            Duration.milliseconds(Int64(clamping: nowMilliseconds - address.timestampMs)) > maximumAge
        {
            throw .stale
        }
        self.peer = PeerID(signer)
        self.host = address.host
        self.port = UInt16(address.port)
        self.timestampMilliseconds = address.timestampMs
        self.signed = signed
    }
}

/// Known peers and where they listen. A record replaces another for the same peer only when it is newer.
public struct PeerTable: Sendable {
    public private(set) var records: [PeerID: PeerAddressRecord] = [:]

    public init() {}

    /// Inserts a verified record; returns true when it was new or newer than the one held.
    @discardableResult
    public mutating func insert(_ record: PeerAddressRecord) -> Bool {
        if let existing = records[record.peer], existing.timestampMilliseconds >= record.timestampMilliseconds {
            return false
        }
        records[record.peer] = record
        return true
    }

    public func address(of peer: PeerID) -> PeerAddressRecord? { records[peer] }

    /// Forgets the records of peers outside `keep` (e.g. no longer admitted).
    public mutating func removeAll(except keep: Set<PeerID>) { records = records.filter { keep.contains($0.key) } }
}
