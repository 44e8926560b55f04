import Foundation
import Secp256k1

/// Intel TCB info (PCS v4 `tcbInfo`, version 2 or 3): the TCB levels of one platform model (FMSPC) and their
/// statuses. Only the fields the verifier uses are decoded; the signature covers the raw text.
struct TCBInfo: Sendable {
    struct Level: Sendable {
        let sgxComponents: [UInt8]
        let pceSVN: UInt16
        /// TDX only: the 16 TEE_TCB_SVN minimums.
        let tdxComponents: [UInt8]?
        let tcbDate: Date?
        let status: TCBStatus
        let advisoryIDs: [String]
    }

    struct ModuleIdentity: Sendable {
        let id: String
        let mrSigner: [UInt8]
        let attributes: [UInt8]
        let attributesMask: [UInt8]
        /// (minimum ISVSVN, status, advisories), highest first.
        let levels: [(isvSVN: UInt16, status: TCBStatus, advisoryIDs: [String])]
    }

    let id: String
    let version: Int
    let issueDate: Date
    let nextUpdate: Date
    let fmspc: [UInt8]
    let pceID: [UInt8]
    let tcbType: Int
    let levels: [Level]
    let tdxModule: (mrSigner: [UInt8], attributes: [UInt8], attributesMask: [UInt8])?
    let tdxModuleIdentities: [ModuleIdentity]

    init(json: [UInt8]) throws(AttestationError) {
        let which = "TCB info"
        let o = try IntelJSON.object(json, which)
        id = try IntelJSON.string(o, "id", which)
        version = try IntelJSON.int(o, "version", which)
        guard version == 2 || version == 3 else { throw .collateralInvalid(which: which, detail: "unsupported version \(version)") }
        issueDate = try IntelJSON.date(o, "issueDate", which)
        nextUpdate = try IntelJSON.date(o, "nextUpdate", which)
        fmspc = try IntelJSON.hex(o, "fmspc", which, count: 6)
        pceID = try IntelJSON.hex(o, "pceId", which, count: 2)
        tcbType = try IntelJSON.int(o, "tcbType", which)
        guard tcbType == 0 else { throw .collateralInvalid(which: which, detail: "unsupported tcbType \(tcbType)") }
        guard let rawLevels = o["tcbLevels"] as? [[String: Any]], !rawLevels.isEmpty else { throw .collateralInvalid(which: which, detail: "no tcbLevels") }
        var levels: [Level] = []
        for raw in rawLevels {
            guard let tcb = raw["tcb"] as? [String: Any] else { throw .collateralInvalid(which: which, detail: "level without tcb") }
            let sgx: [UInt8]
            var tdx: [UInt8]? = nil
            if version == 3 {
                sgx = try IntelJSON.components(tcb, "sgxtcbcomponents", which)
                if tcb["tdxtcbcomponents"] != nil { tdx = try IntelJSON.components(tcb, "tdxtcbcomponents", which) }
            } else {
                sgx = try (1...16).map { i throws(AttestationError) in UInt8(try IntelJSON.int(tcb, String(format: "sgxtcbcomp%02dsvn", i), which, max: 255)) }
            }
            let pce = try IntelJSON.int(tcb, "pcesvn", which, max: 0xFFFF)
            let status = try IntelJSON.status(raw, "tcbStatus", which)
            let date = (raw["tcbDate"] as? String).flatMap(RFC3339.parse)
            levels.append(Level(sgxComponents: sgx, pceSVN: UInt16(pce), tdxComponents: tdx, tcbDate: date, status: status,
                                advisoryIDs: (raw["advisoryIDs"] as? [String]) ?? []))
        }
        self.levels = levels
        if let module = o["tdxModule"] as? [String: Any] {
            tdxModule = (try IntelJSON.hex(module, "mrsigner", which, count: 48), try IntelJSON.hex(module, "attributes", which, count: 8),
                         try IntelJSON.hex(module, "attributesMask", which, count: 8))
        } else {
            tdxModule = nil
        }
        var identities: [ModuleIdentity] = []
        for raw in (o["tdxModuleIdentities"] as? [[String: Any]]) ?? [] {
            var moduleLevels: [(isvSVN: UInt16, status: TCBStatus, advisoryIDs: [String])] = []
            for level in (raw["tcbLevels"] as? [[String: Any]]) ?? [] {
                guard let tcb = level["tcb"] as? [String: Any] else { throw .collateralInvalid(which: which, detail: "module level without tcb") }
                moduleLevels.append((UInt16(try IntelJSON.int(tcb, "isvsvn", which, max: 0xFFFF)), try IntelJSON.status(level, "tcbStatus", which),
                                     (level["advisoryIDs"] as? [String]) ?? []))
            }
            identities.append(ModuleIdentity(id: try IntelJSON.string(raw, "id", which), mrSigner: try IntelJSON.hex(raw, "mrsigner", which, count: 48),
                                             attributes: try IntelJSON.hex(raw, "attributes", which, count: 8),
                                             attributesMask: try IntelJSON.hex(raw, "attributesMask", which, count: 8), levels: moduleLevels))
        }
        tdxModuleIdentities = identities
    }
}

/// Intel QE identity (PCS v4 `enclaveIdentity`, version 2): what a genuine Quoting Enclave looks like.
struct QEIdentity: Sendable {
    let id: String
    let version: Int
    let issueDate: Date
    let nextUpdate: Date
    let miscSelect: UInt32
    let miscSelectMask: UInt32
    let attributes: [UInt8]
    let attributesMask: [UInt8]
    let mrSigner: [UInt8]
    let isvProductID: UInt16
    let levels: [(isvSVN: UInt16, status: TCBStatus, tcbDate: Date?, advisoryIDs: [String])]

    init(json: [UInt8]) throws(AttestationError) {
        let which = "QE identity"
        let o = try IntelJSON.object(json, which)
        id = try IntelJSON.string(o, "id", which)
        version = try IntelJSON.int(o, "version", which)
        guard version == 2 else { throw .collateralInvalid(which: which, detail: "unsupported version \(version)") }
        issueDate = try IntelJSON.date(o, "issueDate", which)
        nextUpdate = try IntelJSON.date(o, "nextUpdate", which)
        miscSelect = UInt32(bigEndianHex: try IntelJSON.hex(o, "miscselect", which, count: 4))
        miscSelectMask = UInt32(bigEndianHex: try IntelJSON.hex(o, "miscselectMask", which, count: 4))
        attributes = try IntelJSON.hex(o, "attributes", which, count: 16)
        attributesMask = try IntelJSON.hex(o, "attributesMask", which, count: 16)
        mrSigner = try IntelJSON.hex(o, "mrsigner", which, count: 32)
        isvProductID = UInt16(try IntelJSON.int(o, "isvprodid", which, max: 0xFFFF))
        guard let rawLevels = o["tcbLevels"] as? [[String: Any]], !rawLevels.isEmpty else { throw .collateralInvalid(which: which, detail: "no tcbLevels") }
        var levels: [(isvSVN: UInt16, status: TCBStatus, tcbDate: Date?, advisoryIDs: [String])] = []
        for raw in rawLevels {
            guard let tcb = raw["tcb"] as? [String: Any] else { throw .collateralInvalid(which: which, detail: "level without tcb") }
            levels.append((UInt16(try IntelJSON.int(tcb, "isvsvn", which, max: 0xFFFF)), try IntelJSON.status(raw, "tcbStatus", which),
                           (raw["tcbDate"] as? String).flatMap(RFC3339.parse), (raw["advisoryIDs"] as? [String]) ?? []))
        }
        self.levels = levels
    }
}

extension UInt32 {
    /// Intel writes MISCSELECT as the hex of its little-endian bytes ("00000000"); keep the byte order of the report.
    init(bigEndianHex b: [UInt8]) {
        self = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
}

enum IntelJSON {
    static func object(_ json: [UInt8], _ which: String) throws(AttestationError) -> [String: Any] {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw .collateralInvalid(which: which, detail: "not a JSON object")
        }
        return o
    }

    static func string(_ o: [String: Any], _ key: String, _ which: String) throws(AttestationError) -> String {
        guard let s = o[key] as? String else { throw .collateralInvalid(which: which, detail: "missing \(key)") }
        return s
    }

    static func int(_ o: [String: Any], _ key: String, _ which: String, max: Int = Int(Int32.max)) throws(AttestationError) -> Int {
        guard let n = o[key] as? Int, n >= 0, n <= max else {
            throw .collateralInvalid(which: which, detail: "missing or invalid \(key)")
        }
        return n
    }

    static func hex(_ o: [String: Any], _ key: String, _ which: String, count: Int) throws(AttestationError) -> [UInt8] {
        guard let b = Hex.decode(try string(o, key, which)), b.count == count else { throw .collateralInvalid(which: which, detail: "\(key) is not \(count) hex bytes") }
        return b
    }

    static func date(_ o: [String: Any], _ key: String, _ which: String) throws(AttestationError) -> Date {
        guard let d = RFC3339.parse(try string(o, key, which)) else { throw .collateralInvalid(which: which, detail: "\(key) is not an RFC 3339 UTC time") }
        return d
    }

    static func status(_ o: [String: Any], _ key: String, _ which: String) throws(AttestationError) -> TCBStatus {
        guard let s = TCBStatus(rawValue: try string(o, key, which)), s != .notEvaluated else { throw .collateralInvalid(which: which, detail: "unknown \(key)") }
        return s
    }

    static func components(_ o: [String: Any], _ key: String, _ which: String) throws(AttestationError) -> [UInt8] {
        guard let list = o[key] as? [[String: Any]], list.count == 16 else { throw .collateralInvalid(which: which, detail: "\(key) must list 16 components") }
        return try list.map { c throws(AttestationError) in UInt8(try int(c, "svn", which, max: 255)) }
    }
}
