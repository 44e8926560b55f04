#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftProtobuf

/// EKEP handshake framing: `LE32(4 + n) ‖ LE32(message type) ‖ n bytes of proto2`.
///
/// The size field counts the type field and the body, not itself (Asylo `ekep_handshaker.cc`).
public enum HandshakeFrame {
    /// Bytes of header before the body: the size and the type.
    public static let headerLength = 8
    /// Asylo's default and our limit for one handshake frame (the size field's value).
    public static let defaultMaxFrameSize = 1 << 20
    /// The largest limit Asylo allows a configuration to choose.
    public static let largestConfigurableFrameSize = 1 << 30

    /// Encodes one frame. Fails with `INTERNAL_ERROR` when the message is larger than `maxFrameSize`.
    public static func encode(type: Asylo_HandshakeMessageType, message: some SwiftProtobuf.Message, maxFrameSize: Int)
        throws(HandshakeFailure) -> [UInt8]
    {
        let body: [UInt8]
        do {
            body = try message.serializedBytes()
        } catch {
            throw .aborted(code: .internalError, reason: "cannot serialize \(type): \(error)")
        }
        guard body.count + 4 <= maxFrameSize else {
            throw .aborted(code: .internalError, reason: "outgoing \(type) is \(body.count) bytes, over the frame limit")
        }
        return encode(type: UInt32(type.rawValue), body: body)
    }

    /// Encodes a frame from a raw type value and body (also used by tests to build malformed frames).
    public static func encode(type: UInt32, body: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(headerLength + body.count)
        appendLittleEndian(UInt32(truncatingIfNeeded: body.count + 4), to: &out)
        appendLittleEndian(type, to: &out)
        out += body
        return out
    }

    /// The outcome of looking for one frame at the start of a buffer.
    public enum ParseResult: Equatable, Sendable {
        /// Fewer bytes than the header, or than the body the header announces, are buffered.
        case needMoreData
        /// A whole frame: its type, its body and its total length (header included) in the buffer.
        case frame(type: Asylo_HandshakeMessageType, body: ArraySlice<UInt8>, length: Int)
    }

    /// Looks for one frame at the start of `buffer`, applying Asylo's receive rules in Asylo's order: header
    /// errors are fatal as soon as 8 bytes are buffered, an unexpected type fails before the body arrives.
    ///
    /// - Parameter expected: the one non-Abort type acceptable now.
    public static func parse(_ buffer: ArraySlice<UInt8>, expected: Asylo_HandshakeMessageType, maxFrameSize: Int)
        throws(HandshakeFailure) -> ParseResult
    {
        guard buffer.count >= headerLength else { return .needMoreData }
        let start = buffer.startIndex
        let size = readLittleEndian(buffer, at: start)
        let rawType = readLittleEndian(buffer, at: start + 4)
        guard size >= 4, UInt64(size) <= UInt64(maxFrameSize) else {
            throw .aborted(code: .badMessage, reason: "frame size \(size) outside 4...\(maxFrameSize)")
        }
        guard rawType <= UInt32(Int32.max), let type = Asylo_HandshakeMessageType(rawValue: Int(rawType)),
            type != .unknownHandshakeMessage
        else {
            throw .aborted(code: .badMessage, reason: "unknown handshake message type \(rawType)")
        }
        guard type == expected || type == .abort else {
            throw .aborted(code: .protocolError, reason: "unexpected message \(type), expected \(expected)")
        }
        let total = Int(size) + 4
        guard buffer.count >= total else { return .needMoreData }
        return .frame(type: type, body: buffer[(start + headerLength)..<(start + total)], length: total)
    }

    static func appendLittleEndian(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 24))
    }

    static func readLittleEndian(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt32 {
        UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
            | UInt32(bytes[index + 3]) << 24
    }
}
