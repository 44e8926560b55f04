#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// The running EKEP transcript hash: SHA-256 over the exact wire bytes of every non-Abort handshake frame,
/// headers included, in send/receive order. Frames are never re-serialized for hashing.
struct Transcript: Sendable {
    private var hasher = SHA256()

    /// Adds one whole frame as it appeared on the wire.
    mutating func append(frame: some DataProtocol) {
        hasher.update(data: frame)
    }

    /// The hash of everything appended so far (the hasher continues).
    var snapshot: [UInt8] {
        Array(hasher.finalize())
    }
}
