/// The byte form a node writes to its sealed write-ahead log. Signed messages keep their exact wire bytes, so a
/// restarted process re-sends exactly what it signed before.
///
/// `tag u8` then: 1 signed: `length u32 ‖ wire`; 2 locked / 3 valid: `height u64 ‖ round u32 ‖ length u32 ‖ value`;
/// 4 polka: `height u64 ‖ round u32 ‖ count u16 ‖ (length u32 ‖ wire)…`.
extension WALEntry {
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: 256)
        func message(_ m: SignedMessage) {
            w.u32(UInt32(m.wireBytes.count))
            w.raw(m.wireBytes)
        }
        switch self {
        case .signed(let m):
            w.u8(1)
            message(m)
        case .locked(let h, let rv), .valid(let h, let rv):
            if case .locked = self { w.u8(2) } else { w.u8(3) }
            w.u64(h)
            w.u32(rv.round)
            w.u32(UInt32(rv.value.bytes.count))
            w.raw(rv.value.bytes)
        case .polka(let h, let r, let prevotes):
            w.u8(4)
            w.u64(h)
            w.u32(r)
            w.u16(UInt16(prevotes.count))
            for p in prevotes { message(p) }
        }
        return w.bytes
    }

    /// Parses an entry this module wrote; anything else is a typed error (a damaged log is refused, not guessed at).
    public static func decode(_ bytes: [UInt8]) throws(ConsensusError) -> WALEntry {
        var r = ByteReader(bytes[...])
        func message() throws(ConsensusError) -> SignedMessage {
            let n = Int(try r.u32())
            guard n <= Limits.signedMessageBytesMax else { throw .oversize(n) }
            return try SignedMessage.decode(try r.raw(n))
        }
        let entry: WALEntry
        switch try r.u8() {
        case 1:
            entry = .signed(try message())
        case let tag where tag == 2 || tag == 3:
            let h = try r.u64(), round = try r.u32()
            let n = Int(try r.u32())
            guard n <= Limits.valueBytesMax else { throw .oversize(n) }
            let rv = RoundValue(value: Value(Array(try r.raw(n))), round: round)
            entry = tag == 2 ? .locked(height: h, rv) : .valid(height: h, rv)
        case 4:
            let h = try r.u64(), round = try r.u32()
            let count = Int(try r.u16())
            guard count <= Limits.validatorsMax else { throw .oversize(count) }
            var prevotes: [SignedMessage] = []
            for _ in 0..<count { prevotes.append(try message()) }
            entry = .polka(height: h, round: round, prevotes: prevotes)
        case let tag:
            throw .unknownKind(tag)
        }
        try r.finish()
        return entry
    }
}
