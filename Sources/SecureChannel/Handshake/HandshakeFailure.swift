/// The Abort codes of EKEP v1 (Asylo's `Abort.ErrorCode`).
public typealias EKEPAbortCode = Asylo_Abort.ErrorCode

/// Why a handshake ended without an open channel.
///
/// Every case carries the EKEP abort code that classifies it, so tests and logs can check *why* a handshake failed
/// whichever side noticed first.
public enum HandshakeFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// This side detected the problem and sent an Abort frame carrying `code`.
    case aborted(code: EKEPAbortCode, reason: String)
    /// This side detected the problem after the point where EKEP forbids further frames (a bad ClientFinish, or a
    /// record-key derivation failure), so it closes without sending an Abort.
    case closedSilently(code: EKEPAbortCode, reason: String)
    /// The peer sent an Abort frame with this code and free-text message.
    case peerAborted(code: EKEPAbortCode, message: String)
    /// The peer sent an Abort frame that did not parse; EKEP says to stop without replying.
    case malformedPeerAbort
    /// The transport ended (EOF or timeout) before the handshake completed; Asylo under gRPC aborts this way.
    case connectionClosed(reason: String)
    /// The handshaker was used after it had already completed or failed, or the client was started twice.
    case misuse(String)

    /// The abort code that classifies this failure.
    public var code: EKEPAbortCode {
        switch self {
        case .aborted(let code, _), .closedSilently(let code, _), .peerAborted(let code, _): code
        case .malformedPeerAbort: .deserializationFailed
        case .connectionClosed: .unknownErrorCode
        case .misuse: .internalError
        }
    }

    public var description: String {
        switch self {
        case .aborted(let code, let reason): "EKEP aborted (\(code)): \(reason)"
        case .closedSilently(let code, let reason): "EKEP closed without Abort (\(code)): \(reason)"
        case .peerAborted(let code, let message): "EKEP peer aborted (\(code)): \(message)"
        case .malformedPeerAbort: "EKEP peer sent a malformed Abort"
        case .connectionClosed(let reason): "EKEP connection closed during handshake: \(reason)"
        case .misuse(let what): "EKEP handshaker misuse: \(what)"
        }
    }
}
