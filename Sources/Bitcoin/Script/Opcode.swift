/// A script opcode. A struct over the byte rather than a 256-case enum, so every byte parses to a value while the
/// ones we build with have names (values from Core's script.h).
public struct Opcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let op0 = Opcode(rawValue: 0x00)
    public static let pushData1 = Opcode(rawValue: 0x4C)
    public static let pushData2 = Opcode(rawValue: 0x4D)
    public static let pushData4 = Opcode(rawValue: 0x4E)
    public static let op1Negate = Opcode(rawValue: 0x4F)
    public static let op1 = Opcode(rawValue: 0x51)
    public static let op16 = Opcode(rawValue: 0x60)
    public static let nop = Opcode(rawValue: 0x61)
    public static let `if` = Opcode(rawValue: 0x63)
    public static let notIf = Opcode(rawValue: 0x64)
    public static let `else` = Opcode(rawValue: 0x67)
    public static let endIf = Opcode(rawValue: 0x68)
    public static let verify = Opcode(rawValue: 0x69)
    public static let `return` = Opcode(rawValue: 0x6A)
    public static let drop = Opcode(rawValue: 0x75)
    public static let dup = Opcode(rawValue: 0x76)
    public static let equal = Opcode(rawValue: 0x87)
    public static let equalVerify = Opcode(rawValue: 0x88)
    public static let hash160 = Opcode(rawValue: 0xA9)
    public static let codeSeparator = Opcode(rawValue: 0xAB)
    public static let checkSig = Opcode(rawValue: 0xAC)
    public static let checkSigVerify = Opcode(rawValue: 0xAD)
    public static let checkMultisig = Opcode(rawValue: 0xAE)
    public static let checkMultisigVerify = Opcode(rawValue: 0xAF)
    public static let checkLockTimeVerify = Opcode(rawValue: 0xB1)
    public static let checkSequenceVerify = Opcode(rawValue: 0xB2)

    /// OP_1 … OP_16 for 1…16; OP_0 for 0.
    public static func smallInteger(_ n: Int) -> Opcode {
        precondition((0...16).contains(n), "small integers are 0…16")
        return n == 0 ? .op0 : Opcode(rawValue: 0x50 + UInt8(n))
    }

    /// The value of OP_0 / OP_1…OP_16, else nil.
    public var smallIntegerValue: Int? {
        if self == .op0 { return 0 }
        if rawValue >= 0x51 && rawValue <= 0x60 { return Int(rawValue - 0x50) }
        return nil
    }

    /// Bytes 0x01…0x4E push data.
    public var isPush: Bool { rawValue <= 0x4E }

    public var description: String {
        switch self {
        case .op0: return "OP_0"
        case .if: return "OP_IF"
        case .notIf: return "OP_NOTIF"
        case .else: return "OP_ELSE"
        case .endIf: return "OP_ENDIF"
        case .verify: return "OP_VERIFY"
        case .return: return "OP_RETURN"
        case .drop: return "OP_DROP"
        case .dup: return "OP_DUP"
        case .equal: return "OP_EQUAL"
        case .equalVerify: return "OP_EQUALVERIFY"
        case .hash160: return "OP_HASH160"
        case .codeSeparator: return "OP_CODESEPARATOR"
        case .checkSig: return "OP_CHECKSIG"
        case .checkSigVerify: return "OP_CHECKSIGVERIFY"
        case .checkMultisig: return "OP_CHECKMULTISIG"
        case .checkMultisigVerify: return "OP_CHECKMULTISIGVERIFY"
        case .checkLockTimeVerify: return "OP_CHECKLOCKTIMEVERIFY"
        case .checkSequenceVerify: return "OP_CHECKSEQUENCEVERIFY"
        case .op1Negate: return "OP_1NEGATE"
        default:
            if let n = smallIntegerValue { return "OP_\(n)" }
            return "OP_0x" + String(rawValue, radix: 16)
        }
    }
}
