import Crypto
import Foundation
import Testing
import TestSupport

@testable import SecureChannel

@Suite(.dedicatedThread) struct RecordProtectorTests {
    let key = bytes(hex: "c7e0f5436c0fe4efdb6327469651b9fe")

    @Test func largeWritesSplitIntoSixteenKiBFrames() throws {
        var client = ALTSRecordProtector(key: key, isClient: true)
        var server = ALTSRecordProtector(key: key, isClient: false)
        let payload = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let wire = try client.protect(payload)
        // 50,000 bytes at 16,360 per frame = 4 frames, 24 bytes overhead each.
        #expect(wire.count == 50_000 + 4 * 24)
        #expect(HandshakeFrame.readLittleEndian(wire[...], at: 0) == 16_384 - 4)
        // Delivered in odd-sized pieces.
        var received = [UInt8]()
        var i = 0
        while i < wire.count {
            let n = min(777, wire.count - i)
            received += try server.unprotect(wire[i..<(i + n)])
            i += n
        }
        #expect(received == payload)
        #expect(try client.protect([UInt8]()).isEmpty)
    }

    @Test func directionsAreSeparated() throws {
        var client = ALTSRecordProtector(key: key, isClient: true)
        var otherClient = ALTSRecordProtector(key: key, isClient: true)
        let frame = try client.protect(Array("reflect me".utf8))
        // A frame reflected back to its sender uses the wrong direction byte.
        #expect(throws: RecordProtocolError.authenticationFailed) { try otherClient.unprotect(frame) }
    }

    @Test func oneFlippedCiphertextBitIsFatalAndDeliversNothing() throws {
        for position in [8, 12, 20, 24 + 4] {  // ciphertext bytes and tag bytes
            var client = ALTSRecordProtector(key: key, isClient: true)
            var server = ALTSRecordProtector(key: key, isClient: false)
            var frame = try client.protect(Array("attack at dawn".utf8))
            frame[position] ^= 0x01
            #expect(throws: RecordProtocolError.authenticationFailed) { try server.unprotect(frame) }
            // Closed for good, even for an honest follow-up frame.
            #expect(throws: RecordProtocolError.closed) { try server.unprotect(try client.protect([1])) }
        }
    }

    @Test func replayedAndReorderedFramesFail() throws {
        var client = ALTSRecordProtector(key: key, isClient: true)
        var server = ALTSRecordProtector(key: key, isClient: false)
        let a = try client.protect([1])
        let b = try client.protect([2])
        #expect(try server.unprotect(a) == [1])
        #expect(throws: RecordProtocolError.authenticationFailed) { try server.unprotect(a) }
        var server2 = ALTSRecordProtector(key: key, isClient: false)
        #expect(throws: RecordProtocolError.authenticationFailed) { try server2.unprotect(b + a) }
    }

    @Test func headerErrors() throws {
        var s1 = ALTSRecordProtector(key: key, isClient: false)
        // Oversize: 1 MiB + 1.
        #expect(throws: RecordProtocolError.frameSizeOutOfRange((1 << 20) + 1)) {
            try s1.unprotect([0x01, 0x00, 0x10, 0x00, 6, 0, 0, 0])
        }
        var s2 = ALTSRecordProtector(key: key, isClient: false)
        #expect(throws: RecordProtocolError.frameSizeOutOfRange(19)) { try s2.unprotect([19, 0, 0, 0, 6, 0, 0, 0]) }
        var s3 = ALTSRecordProtector(key: key, isClient: false)
        #expect(throws: RecordProtocolError.badFrameType(7)) { try s3.unprotect([20, 0, 0, 0, 7, 0, 0, 0]) }
        // The largest legal frame is accepted.
        var bigSender = ALTSSealer(key: key, isClient: true, maxFrameSize: 1 << 20)
        var out = [UInt8]()
        try bigSender.sealOne([UInt8](repeating: 9, count: (1 << 20) - 24), into: &out)
        var s4 = ALTSRecordProtector(key: key, isClient: false)
        #expect(try s4.unprotect(out).count == (1 << 20) - 24)
    }

    @Test func counterOverflowClosesBothDirections() throws {
        let last = ALTSCounter.limit - 2
        var sealer = ALTSSealer(key: key, isClient: true, initialCounter: last)
        var opener = ALTSOpener(key: key, isClient: false, initialCounter: last)
        var frame = [UInt8]()
        try sealer.sealOne([42], into: &frame)  // counter 2^40 − 2: the last usable frame
        #expect(try opener.open(frame[8...]) == Data([42]))
        var more = [UInt8]()
        #expect(throws: RecordProtocolError.counterExhausted) { try sealer.sealOne([43], into: &more) }
        #expect(more.isEmpty)
        #expect(throws: RecordProtocolError.closed) { try sealer.sealOne([44], into: &more) }
        // The receiving side also refuses the frame at the wrap point.
        var wrapSealer = ALTSSealer(key: key, isClient: true, initialCounter: ALTSCounter.limit - 1)
        var wrapOpener = ALTSOpener(key: key, isClient: false, initialCounter: ALTSCounter.limit - 1)
        #expect(throws: RecordProtocolError.counterExhausted) { try wrapSealer.sealOne([1], into: &more) }
        var manual = [UInt8]()
        // Build the frame for counter 2^40−1 by hand to show the opener refuses it too.
        let box = try AES.GCM.seal([1], using: SymmetricKey(data: key),
                                   nonce: .init(data: ALTSCounter(clientToServer: true, start: ALTSCounter.limit - 1).nonce))
        manual += box.ciphertext + box.tag
        #expect(throws: RecordProtocolError.counterExhausted) { try wrapOpener.open(manual) }
    }

    @Test func nonceLayout() {
        let c = ALTSCounter(clientToServer: false, start: 0x01_0203_0405)
        #expect(c.nonce == [0x05, 0x04, 0x03, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0x80])
    }
}
