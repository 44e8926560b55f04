import Shard

/// A JSON-RPC 2.0 error object. Codes: the specification's reserved codes, and -32001…-32005 for this node's
/// refusals (the specification leaves -32000…-32099 to servers). `data.field` names the offending parameter where
/// there is one, so a client can tell which of a mint's hashes disagreed.
public struct RPCError: Error, Equatable, Sendable {
    public let code: Int
    public let message: String
    public let field: String?

    public init(code: Int, message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    // MARK: JSON-RPC 2.0 reserved codes

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603

    // MARK: Server range

    /// The same transaction is already in the mempool.
    public static let duplicateCode = -32001
    /// The mempool is full (retry later).
    public static let mempoolFullCode = -32002
    /// The encoded transaction exceeds the mempool's per-transaction bound.
    public static let tooLargeCode = -32003
    /// The shard's rules refuse the transaction against the current state (message carries the rule's text).
    public static let rejectedCode = -32004
    /// `ren_queryTx`: no transaction with that hash is known to this node.
    public static let notFoundCode = -32005

    static func parse(_ e: JSONParseError) -> RPCError { RPCError(code: parseErrorCode, message: "parse error: \(e)") }
    static func invalidRequest(_ why: String) -> RPCError { RPCError(code: invalidRequestCode, message: "invalid request: \(why)") }
    static func methodNotFound(_ name: String) -> RPCError { RPCError(code: methodNotFoundCode, message: "method not found: \(name)") }
    static func invalidParams(_ field: String, _ why: String) -> RPCError {
        RPCError(code: invalidParamsCode, message: "invalid params: \(field): \(why)", field: field)
    }

    static func submission(_ e: SubmissionError) -> RPCError {
        switch e {
        case .duplicate: RPCError(code: duplicateCode, message: e.description)
        case .full: RPCError(code: mempoolFullCode, message: e.description)
        case .tooLarge: RPCError(code: tooLargeCode, message: e.description)
        case .invalid: RPCError(code: rejectedCode, message: e.description)
        }
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("code", .number(String(code))), ("message", .string(message))]
        if let field { members.append(("data", .object([("field", .string(field))]))) }
        return .object(members)
    }
}
