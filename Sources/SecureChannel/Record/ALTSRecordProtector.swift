#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// Why the record layer closed the channel. Every case is fatal: ALTS has no recovery or rekeying.
public enum RecordProtocolError: Error, Sendable, Equatable {
    /// A frame's length field is below the minimum (type + tag) or above the receive limit.
    case frameSizeOutOfRange(UInt32)
    /// A frame's type field is not 6 (the only ALTS record type).
    case badFrameType(UInt32)
    /// The GCM tag did not verify: tampering, reordering, replay or a wrong key.
    case authenticationFailed
    /// A direction's 40-bit frame counter is used up; the channel must close (there is no rekeying).
    case counterExhausted
    /// The protector already failed; it never resumes.
    case closed
}

/// The 12-byte ALTS nonce for one direction: 40-bit little-endian frame counter, six zero bytes, and a direction
/// byte (0x00 client→server, 0x80 server→client).
public struct ALTSCounter: Sendable {
    /// Frames per direction before the counter wraps.
    public static let limit: UInt64 = 1 << 40
    public private(set) var value: UInt64
    public let directionByte: UInt8

    public init(clientToServer: Bool, start: UInt64 = 0) {
        precondition(start < Self.limit)
        value = start
        directionByte = clientToServer ? 0x00 : 0x80
    }

    public var nonce: [UInt8] {
        var n = [UInt8](repeating: 0, count: 12)
        for i in 0..<5 { n[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        n[11] = directionByte
        return n
    }

    /// Moves to the next frame. Like gRPC, reaching the wrap point is an error for the frame just processed.
    public mutating func increment() throws(RecordProtocolError) {
        value += 1
        guard value < Self.limit else { throw .counterExhausted }
    }
}

/// ALTSRP_AES128_GCM sealing for one direction (gRPC's ALTS frame protector without rekeying).
///
/// Frame: `LE32(4 + ciphertext + 16) ‖ LE32(6) ‖ ciphertext ‖ tag`; GCM AAD is empty; the nonce is not sent.
public struct ALTSSealer: Sendable {
    let key: SymmetricKey
    public private(set) var counter: ALTSCounter
    /// Largest frame written, header included.
    public let maxFrameSize: Int
    private var failed = false

    public init(key: [UInt8], isClient: Bool, maxFrameSize: Int = ALTSRecordProtector.defaultMaxSendFrameSize,
                initialCounter: UInt64 = 0)
    {
        precondition(key.count == 16, "ALTS AES-128-GCM needs a 16-byte key")
        precondition((ALTSRecordProtector.minFrameSize...ALTSRecordProtector.maxReceiveFrameSize).contains(maxFrameSize))
        self.key = SymmetricKey(data: key)
        self.counter = ALTSCounter(clientToServer: isClient, start: initialCounter)
        self.maxFrameSize = maxFrameSize
    }

    /// Plaintext bytes that fit in one frame.
    public var maxPlaintextPerFrame: Int { maxFrameSize - ALTSRecordProtector.headerLength - ALTSRecordProtector.tagLength }

    /// Seals `plaintext` into as many frames as needed, appending them to `out`. Empty input writes nothing.
    public mutating func seal(_ plaintext: some DataProtocol, into out: inout [UInt8]) throws(RecordProtocolError) {
        guard !failed else { throw .closed }
        var offset = plaintext.startIndex
        while offset != plaintext.endIndex {
            let end = plaintext.index(offset, offsetBy: maxPlaintextPerFrame, limitedBy: plaintext.endIndex)
                ?? plaintext.endIndex
            try sealOne(plaintext[offset..<end], into: &out)
            offset = end
        }
    }

    /// Seals exactly one frame (the chunk must fit).
    public mutating func sealOne(_ chunk: some DataProtocol, into out: inout [UInt8]) throws(RecordProtocolError) {
        let frame = try sealFrame(chunk)
        HandshakeFrame.appendLittleEndian(frame.length, to: &out)
        HandshakeFrame.appendLittleEndian(ALTSRecordProtector.frameType, to: &out)
        out.append(contentsOf: frame.ciphertext)
        out.append(contentsOf: frame.tag)
    }

    /// One sealed frame's parts, for callers that write the frame into their own buffer type (no extra copy).
    public struct SealedFrame {
        /// The value of the frame's length field: 4 + ciphertext + tag.
        public let length: UInt32
        public let ciphertext: Data
        public let tag: Data
    }

    /// Seals exactly one frame's plaintext (at most `maxPlaintextPerFrame` bytes) and advances the counter.
    public mutating func sealFrame(_ chunk: some DataProtocol) throws(RecordProtocolError) -> SealedFrame {
        guard !failed else { throw .closed }
        precondition(chunk.count <= maxPlaintextPerFrame, "chunk larger than one frame")
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(chunk, using: key, nonce: try AES.GCM.Nonce(data: counter.nonce))
        } catch {
            failed = true
            throw .closed
        }
        do { try counter.increment() } catch {
            failed = true
            throw error
        }
        let ciphertext = box.ciphertext
        return SealedFrame(length: UInt32(4 + ciphertext.count + ALTSRecordProtector.tagLength),
                           ciphertext: ciphertext, tag: box.tag)
    }
}

/// ALTSRP_AES128_GCM opening for one direction: frames must arrive whole-or-buffered and strictly in order.
public struct ALTSOpener: Sendable {
    let key: SymmetricKey
    public private(set) var counter: ALTSCounter
    public let maxFrameSize: Int
    private var failed = false

    public init(key: [UInt8], isClient: Bool, maxFrameSize: Int = ALTSRecordProtector.maxReceiveFrameSize,
                initialCounter: UInt64 = 0)
    {
        precondition(key.count == 16, "ALTS AES-128-GCM needs a 16-byte key")
        self.key = SymmetricKey(data: key)
        // A client opens what the server sealed, and vice versa.
        self.counter = ALTSCounter(clientToServer: !isClient, start: initialCounter)
        self.maxFrameSize = maxFrameSize
    }

    /// Checks a frame header; returns the total frame length (header included).
    public func frameLength(header length: UInt32, type: UInt32) throws(RecordProtocolError) -> Int {
        guard length >= UInt32(4 + ALTSRecordProtector.tagLength), length <= UInt32(maxFrameSize) else {
            throw .frameSizeOutOfRange(length)
        }
        guard type == ALTSRecordProtector.frameType else { throw .badFrameType(type) }
        return Int(length) + 4
    }

    /// Opens one frame's `ciphertext ‖ tag` (the bytes after the 8-byte header).
    public mutating func open(_ payload: some DataProtocol) throws(RecordProtocolError) -> Data {
        guard !failed else { throw .closed }
        failed = true
        guard payload.count >= ALTSRecordProtector.tagLength else { throw .authenticationFailed }
        let split = payload.index(payload.endIndex, offsetBy: -ALTSRecordProtector.tagLength)
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(nonce: try AES.GCM.Nonce(data: counter.nonce),
                                            ciphertext: payload[payload.startIndex..<split],
                                            tag: payload[split...])
            plaintext = try AES.GCM.open(box, using: key)
        } catch {
            throw .authenticationFailed
        }
        try counter.increment()
        failed = false
        return plaintext
    }
}

/// Both directions of the ALTS record protocol with receive buffering: the pure, I/O-free form used by tests,
/// the fuzzer and any transport that is not SwiftNIO.
public struct ALTSRecordProtector: Sendable {
    public static let frameType: UInt32 = 6
    public static let headerLength = 8
    public static let tagLength = 16
    /// gRPC's default frame size for sending (header included): 16 KiB.
    public static let defaultMaxSendFrameSize = 16 * 1024
    /// gRPC's smallest allowed frame size.
    public static let minFrameSize = 1024
    /// The largest frame accepted: 1 MiB.
    public static let maxReceiveFrameSize = 1 << 20

    public var sealer: ALTSSealer
    public var opener: ALTSOpener
    private var inbound: [UInt8] = []
    private var failed = false

    public init(key: [UInt8], isClient: Bool, maxSendFrameSize: Int = defaultMaxSendFrameSize) {
        sealer = ALTSSealer(key: key, isClient: isClient, maxFrameSize: maxSendFrameSize)
        opener = ALTSOpener(key: key, isClient: isClient)
    }

    init(sealer: ALTSSealer, opener: ALTSOpener) {
        self.sealer = sealer
        self.opener = opener
    }

    /// Frames and encrypts application bytes.
    public mutating func protect(_ plaintext: some DataProtocol) throws(RecordProtocolError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(plaintext.count + (plaintext.count / sealer.maxPlaintextPerFrame + 1) * 24)
        try sealer.seal(plaintext, into: &out)
        return out
    }

    /// Buffers received bytes and returns the plaintext of every complete frame, in order. Any error is final.
    public mutating func unprotect(_ bytes: some Collection<UInt8>) throws(RecordProtocolError) -> [UInt8] {
        guard !failed else { throw .closed }
        inbound.append(contentsOf: bytes)
        var consumed = 0
        var plaintext = [UInt8]()
        defer { inbound.removeFirst(consumed) }
        while inbound.count - consumed >= Self.headerLength {
            let slice = inbound[consumed...]
            let length = HandshakeFrame.readLittleEndian(slice, at: consumed)
            let type = HandshakeFrame.readLittleEndian(slice, at: consumed + 4)
            let total: Int
            do { total = try opener.frameLength(header: length, type: type) } catch {
                failed = true
                throw error
            }
            guard inbound.count - consumed >= total else { break }
            do {
                plaintext += try opener.open(inbound[(consumed + Self.headerLength)..<(consumed + total)])
            } catch {
                failed = true
                throw error
            }
            consumed += total
        }
        return plaintext
    }
}
