import Foundation
import SwiftASN1

/// Small helpers for walking DER by hand where swift-certificates has no type (CRLs, AMD's RSA-PSS
/// certificates, Intel's SGX extension).
enum DERWalk {
    /// The children of a constructed node; throws for a primitive node.
    static func children(_ node: ASN1Node, _ what: String) throws(AttestationError) -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else {
            throw .malformedCertificate(which: what, detail: "expected a constructed node")
        }
        return Array(nodes)
    }

    /// The children of a node that must be a universal SEQUENCE (tag 0x30): a retagged SEQUENCE is not the
    /// structure it imitates (the structure-aware fuzzer found certificates and CRLs whose outer tag went unchecked).
    static func sequence(_ node: ASN1Node, _ what: String) throws(AttestationError) -> [ASN1Node] {
        guard node.identifier == .sequence else {
            throw .malformedCertificate(which: what, detail: "expected a SEQUENCE, found \(node.identifier)")
        }
        return try children(node, what)
    }

    /// `sequence(_:_:)` with exactly `count` elements.
    static func sequence(_ node: ASN1Node, _ what: String, count: Int) throws(AttestationError) -> [ASN1Node] {
        guard node.identifier == .sequence else {
            throw .malformedCertificate(which: what, detail: "expected a SEQUENCE, found \(node.identifier)")
        }
        return try children(node, what, count: count)
    }

    /// The children of a constructed node, which must number exactly `count` (so callers may index `0..<count`).
    static func children(_ node: ASN1Node, _ what: String, count: Int) throws(AttestationError) -> [ASN1Node] {
        let nodes = try children(node, what)
        guard nodes.count == count else {
            throw .malformedCertificate(which: what, detail: "expected \(count) element(s), found \(nodes.count)")
        }
        return nodes
    }

    /// The OID of an `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }` whose parameters
    /// are absent or NULL (hash algorithms), never indexing an empty SEQUENCE.
    static func hashAlgorithmOID(_ node: ASN1Node, _ what: String) throws(AttestationError) -> String {
        let parts = try sequence(node, what)
        guard let first = parts.first, parts.count <= 2 else {
            throw .malformedCertificate(which: what, detail: "AlgorithmIdentifier must have 1 or 2 elements, found \(parts.count)")
        }
        if parts.count == 2, parts[1].identifier != .null || parts[1].encodedBytes.count != 2 {
            throw .malformedCertificate(which: what, detail: "hash AlgorithmIdentifier parameters must be absent or NULL")
        }
        return try oid(first, what)
    }

    static func parse(_ der: [UInt8], _ what: String) throws(AttestationError) -> ASN1Node {
        do { return try DER.parse(der) } catch { throw .malformedCertificate(which: what, detail: "\(error)") }
    }

    static func primitive(_ node: ASN1Node, _ what: String) throws(AttestationError) -> ArraySlice<UInt8> {
        guard case .primitive(let bytes) = node.content else {
            throw .malformedCertificate(which: what, detail: "expected a primitive node")
        }
        return bytes
    }

    static func oid(_ node: ASN1Node, _ what: String) throws(AttestationError) -> String {
        do { return try ASN1ObjectIdentifier(derEncoded: node).description } catch {
            throw .malformedCertificate(which: what, detail: "expected an OBJECT IDENTIFIER")
        }
    }

    /// UTCTime or GeneralizedTime as a Date (UTC).
    static func time(_ node: ASN1Node, _ what: String) throws(AttestationError) -> Date {
        do {
            if node.identifier == UTCTime.defaultIdentifier {
                let t = try UTCTime(derEncoded: node)
                return date(t.year, t.month, t.day, t.hours, t.minutes, t.seconds)
            }
            if node.identifier == GeneralizedTime.defaultIdentifier {
                let t = try GeneralizedTime(derEncoded: node)
                return date(t.year, t.month, t.day, t.hours, t.minutes, t.seconds)
            }
        } catch {
            throw .malformedCertificate(which: what, detail: "invalid time: \(error)")
        }
        throw .malformedCertificate(which: what, detail: "expected UTCTime or GeneralizedTime")
    }

    /// Seconds since the epoch of a proleptic Gregorian UTC date (Howard Hinnant's days-from-civil).
    static func date(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) -> Date {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Date(timeIntervalSince1970: TimeInterval(days * 86400 + hour * 3600 + minute * 60 + second))
    }

    /// An INTEGER's magnitude bytes without leading zeros (for comparing serial numbers).
    static func normalisedInteger(_ bytes: some Collection<UInt8>) -> [UInt8] {
        Array(bytes.drop(while: { $0 == 0 }))
    }
}

/// Parses an RFC 3339 UTC timestamp of the form Intel collateral uses ("2025-06-19T10:56:11Z").
enum RFC3339 {
    static func parse(_ s: String) -> Date? {
        let u = Array(s.utf8)
        guard u.count >= 20, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x54, u[13] == 0x3A, u[16] == 0x3A, u.last == 0x5A else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard (0x30...0x39).contains(u[i]) else { return nil }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16), let se = num(17..<19),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { return nil }
        // Optional fractional seconds between the seconds and the Z are ignored.
        if u.count > 20 { guard u[19] == 0x2E, num(20..<(u.count - 1)) != nil else { return nil } }
        return DERWalk.date(y, mo, d, h, mi, se)
    }
}
