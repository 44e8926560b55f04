import X509
import SwiftASN1

/// The Intel SGX extension (OID 1.2.840.113741.1.13.1) of a PCK certificate: the platform's TCB as Intel
/// certified it, which selects the TCB level (Intel "SGX PCK Certificate and CRL Profile", §1.5).
public struct PCKExtension: Sendable, Hashable {
    public static let oid = "1.2.840.113741.1.13.1"

    public let ppid: [UInt8]
    /// The 16 SGX TCB component SVNs (.2.1 - .2.16).
    public let componentSVNs: [UInt8]
    public let pceSVN: UInt16
    public let cpuSVN: [UInt8]
    public let pceID: [UInt8]
    public let fmspc: [UInt8]
    /// 0 Standard, 1 Scalable, 2 Scalable with integrity.
    public let sgxType: Int

    init(certificate: Certificate) throws(AttestationError) {
        guard let ext = certificate.extensions.first(where: { $0.oid.description == Self.oid }) else {
            throw .pckExtensionInvalid(detail: "missing")
        }
        try self.init(extensionValue: Array(ext.value))
    }

    init(extensionValue: [UInt8]) throws(AttestationError) {
        func fail(_ d: String) -> AttestationError { .pckExtensionInvalid(detail: d) }
        let root: ASN1Node
        do { root = try DER.parse(extensionValue) } catch { throw fail("not DER") }
        var values: [String: ASN1Node] = [:]
        func pairs(_ node: ASN1Node) throws(AttestationError) -> [(String, ASN1Node)] {
            guard node.identifier == .sequence, case .constructed(let items) = node.content else { throw fail("expected SEQUENCE") }
            var out: [(String, ASN1Node)] = []
            for item in items {
                guard item.identifier == .sequence, case .constructed(let kv) = item.content else { throw fail("expected SEQUENCE { OID, value }") }
                let parts = Array(kv)
                guard parts.count == 2, let oid = try? ASN1ObjectIdentifier(derEncoded: parts[0]) else { throw fail("expected SEQUENCE { OID, value }") }
                out.append((oid.description, parts[1]))
            }
            return out
        }
        for (oid, value) in try pairs(root) {
            guard values[oid] == nil else { throw fail("duplicate \(oid)") }
            values[oid] = value
        }
        func octets(_ suffix: String, count: Int?) throws(AttestationError) -> [UInt8] {
            guard let node = values["\(Self.oid).\(suffix)"], let o = try? ASN1OctetString(derEncoded: node) else { throw fail("missing .\(suffix)") }
            if let count, o.bytes.count != count { throw fail(".\(suffix) has \(o.bytes.count) bytes, expected \(count)") }
            return Array(o.bytes)
        }
        ppid = try octets("1", count: 16)
        pceID = try octets("3", count: 2)
        fmspc = try octets("4", count: 6)
        guard let typeNode = values["\(Self.oid).5"], let type = try? Int(derEncoded: typeNode, withIdentifier: .enumerated) else { throw fail("missing SGX type") }
        sgxType = type
        guard let tcbNode = values["\(Self.oid).2"] else { throw fail("missing TCB") }
        var tcb: [String: ASN1Node] = [:]
        for (oid, value) in try pairs(tcbNode) { tcb[oid] = value }
        var components: [UInt8] = []
        for i in 1...16 {
            guard let node = tcb["\(Self.oid).2.\(i)"], let v = try? Int(derEncoded: node), (0...255).contains(v) else { throw fail("missing or invalid TCB component \(i)") }
            components.append(UInt8(v))
        }
        componentSVNs = components
        guard let pceNode = tcb["\(Self.oid).2.17"], let pce = try? Int(derEncoded: pceNode), (0...0xFFFF).contains(pce) else { throw fail("missing or invalid PCESVN") }
        pceSVN = UInt16(pce)
        guard let cpuNode = tcb["\(Self.oid).2.18"], let cpu = try? ASN1OctetString(derEncoded: cpuNode), cpu.bytes.count == 16 else { throw fail("missing or invalid CPUSVN") }
        cpuSVN = Array(cpu.bytes)
    }
}
