import Foundation
import SwiftASN1
import X509

/// A structure-aware fuzzer for every DER parser of this module (issue 17): real certificates and CRLs are parsed
/// into trees, the *trees* are mutated (children dropped, duplicated or emptied, tags and length encodings changed,
/// subtrees swapped or spliced in from other samples, primitive contents set to boundary values, encapsulated DER
/// inside OCTET/BIT STRINGs descended into), re-encoded, and fed to the parsers and to whole verification paths.
///
/// A parser must return a value or a typed error; a trap stops the process (the seed and execution number, printed
/// by the caller, replay it). A *verification* path that accepts a mutant whose bytes differ from the genuine input
/// is recorded as a finding (a signature or chain check let a change through).
///
/// Pure and deterministic (SplitMix64 from `seed`); used by `AttestationTests` (a few thousand inputs) and by
/// `bench derfuzz` (≥ 1,000,000).
public enum DERTreeFuzzer {
    /// The real evidence the seeds come from (the repository's attestation samples) and their verification times.
    public struct Samples: Sendable {
        public var sgxQuote: [UInt8]
        public var sgxCollateralJSON: [UInt8]
        public var tdxQuote: [UInt8]
        public var tdxCollateralJSON: [UInt8]
        public var snpReport: [UInt8]
        public var vcek: [UInt8]
        public var nitroDocument: [UInt8]
        public var intelTime: Date
        public var snpTime: Date
        public var nitroTime: Date
        /// The synthetic AMD test PKI (Tests/Fixtures `amd-sev-snp/test-pki/`): no real AMD CRL exists in the test
        /// data. Nil leaves out the AMD CRL targets.
        public var amdTestPKI: AMDTestPKI?

        /// Test ARK/ASK, VCEK, the report it re-signed, a CRL by the test ARK that lists none of them, and a time
        /// inside that CRL's window.
        public struct AMDTestPKI: Sendable {
            public var ark: [UInt8], ask: [UInt8], vcek: [UInt8], report: [UInt8], crl: [UInt8], time: Date
            public init(ark: [UInt8], ask: [UInt8], vcek: [UInt8], report: [UInt8], crl: [UInt8], time: Date) {
                (self.ark, self.ask, self.vcek, self.report, self.crl, self.time) = (ark, ask, vcek, report, crl, time)
            }
        }

        public init(sgxQuote: [UInt8], sgxCollateralJSON: [UInt8], tdxQuote: [UInt8], tdxCollateralJSON: [UInt8], snpReport: [UInt8],
                    vcek: [UInt8], nitroDocument: [UInt8], intelTime: Date, snpTime: Date, nitroTime: Date, amdTestPKI: AMDTestPKI? = nil) {
            self.sgxQuote = sgxQuote
            self.sgxCollateralJSON = sgxCollateralJSON
            self.tdxQuote = tdxQuote
            self.tdxCollateralJSON = tdxCollateralJSON
            self.snpReport = snpReport
            self.vcek = vcek
            self.nitroDocument = nitroDocument
            self.intelTime = intelTime
            self.snpTime = snpTime
            self.nitroTime = nitroTime
            self.amdTestPKI = amdTestPKI
        }
    }

    /// What a run did.
    public struct Report: Sendable {
        public struct TargetCount: Sendable {
            public var executions = 0
            /// Inputs the target accepted (parsed, or verified for whole-verification targets).
            public var accepted = 0
        }

        public var seed: UInt64
        public var executions = 0
        public var targets: [String: TargetCount] = [:]
        /// Verification paths that accepted changed bytes (each: target and the input's hex), at most 20 kept.
        public var findings: [String] = []
        public var findingCount = 0
        /// Seed trees parsed (certificates, CRLs, extensions, and the DER found inside them).
        public var seedTrees = 0

        public var summary: String {
            "DER tree fuzz: seed \(seed), \(executions) executions, \(seedTrees) seed trees, \(findingCount) findings; "
                + targets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.executions) (\($0.value.accepted) accepted)" }.joined(separator: ", ")
        }
    }

    /// Runs `iterations` mutated inputs over every target. `progress` is called every 100,000 executions.
    public static func run(samples: Samples, iterations: Int, seed: UInt64, progress: ((Report) -> Void)? = nil) throws(AttestationError) -> Report {
        let targets = try makeTargets(samples)
        var rng = SplitMix64(seed: seed)
        var report = Report(seed: seed)
        report.seedTrees = targets.reduce(0) { $0 + $1.seeds.count }
        let donors = targets.flatMap(\.seeds)
        while report.executions < iterations {
            for target in targets where report.executions < iterations {
                // Whole-verification targets cost ~100 parses: one input in `rarity`.
                if target.rarity > 1, rng.next() % UInt64(target.rarity) != 0 { continue }
                let seedIndex = Int(rng.next() % UInt64(target.seeds.count))
                let original = target.originals[seedIndex]
                var input = original
                for _ in 0..<8 where input == original {
                    var tree = target.seeds[seedIndex]
                    let rounds = 1 + Int(rng.next() % 4)
                    for _ in 0..<rounds { mutate(&tree, donors: donors, rng: &rng) }
                    input = tree.encoded
                }
                let accepted = target.run(seedIndex, input)
                report.executions += 1
                report.targets[target.name, default: .init()].executions += 1
                if accepted {
                    report.targets[target.name, default: .init()].accepted += 1
                    if target.isVerification, input != original {
                        report.findingCount += 1
                        if report.findings.count < 20 { report.findings.append("\(target.name): \(input.hexString)") }
                    }
                }
                if report.executions % 100_000 == 0 { progress?(report) }
            }
        }
        return report
    }

    // MARK: - Trees

    /// One DER node: identifier octets, content, and how its length is written (minimal unless mutated).
    struct Node: Sendable, Equatable {
        enum Content: Sendable, Equatable {
            case primitive([UInt8])
            case constructed([Node])
            /// A primitive OCTET STRING or BIT STRING whose content (after `prefix`, the BIT STRING's unused-bits
            /// octet) is itself DER: mutated as a tree.
            indirect case encapsulated(prefix: [UInt8], Node)
        }

        enum Length: Sendable, Equatable {
            case minimal
            /// The true length plus `delta` (clamped at 0), minimal form.
            case off(by: Int)
            /// The indefinite form (0x80), forbidden in DER.
            case indefinite
            /// The long form with `octets` length octets (non-minimal for short contents; 0 = 0x80 … never).
            case long(octets: Int)
            /// Raw length octets.
            case raw([UInt8])
        }

        var identifier: [UInt8]
        var content: Content
        var length: Length = .minimal

        var encoded: [UInt8] {
            var body: [UInt8]
            switch content {
            case .primitive(let bytes): body = bytes
            case .constructed(let children):
                body = []
                for child in children { body += child.encoded }
            case .encapsulated(let prefix, let inner): body = prefix + inner.encoded
            }
            return identifier + Node.lengthOctets(body.count, length) + body
        }

        static func lengthOctets(_ n: Int, _ form: Length) -> [UInt8] {
            func long(_ v: Int, octets: Int) -> [UInt8] {
                let k = max(1, min(octets, 8))
                return [0x80 | UInt8(k)] + (0..<k).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
            }
            func minimal(_ v: Int) -> [UInt8] {
                if v < 0x80 { return [UInt8(v)] }
                var octets = 1
                while octets < 8, v >> (8 * octets) != 0 { octets += 1 }
                return long(v, octets: octets)
            }
            switch form {
            case .minimal: return minimal(n)
            case .off(let delta): return minimal(max(0, n + delta))
            case .indefinite: return [0x80]
            case .long(let octets): return long(n, octets: octets)
            case .raw(let bytes): return bytes
            }
        }

        /// Parses DER (swift-asn1, strict) into a tree, descending into encapsulated DER.
        init(der: [UInt8]) throws {
            self.init(try DER.parse(der))
        }

        init(identifier: [UInt8], content: Content, length: Length = .minimal) {
            self.identifier = identifier
            self.content = content
            self.length = length
        }

        init(_ node: ASN1Node) {
            var isConstructed = false
            if case .constructed = node.content { isConstructed = true }
            identifier = Node.identifierOctets(node.identifier, constructed: isConstructed)
            switch node.content {
            case .constructed(let children):
                content = .constructed(children.map(Node.init))
            case .primitive(let bytes):
                let bytes = Array(bytes)
                content = .primitive(bytes)
                if node.identifier == .octetString, let inner = Node.innerDER(bytes) {
                    content = .encapsulated(prefix: [], inner)
                } else if node.identifier == .bitString, bytes.first == 0, let inner = Node.innerDER(Array(bytes.dropFirst())) {
                    content = .encapsulated(prefix: [0], inner)
                }
            }
        }

        /// DER inside a string's content, if the whole content is exactly one DER node.
        static func innerDER(_ bytes: [UInt8]) -> Node? {
            guard bytes.count >= 2, let node = try? DER.parse(bytes), node.encodedBytes.count == bytes.count else { return nil }
            let tree = Node(node)
            return tree.encoded == bytes ? tree : nil
        }

        static func identifierOctets(_ id: ASN1Identifier, constructed: Bool) -> [UInt8] {
            let classBits: UInt8
            switch id.tagClass {
            case .universal: classBits = 0x00
            case .application: classBits = 0x40
            case .contextSpecific: classBits = 0x80
            case .private: classBits = 0xC0
            }
            let first = classBits | (constructed ? 0x20 : 0)
            if id.tagNumber < 31 { return [first | UInt8(id.tagNumber)] }
            var number = id.tagNumber
            var tail: [UInt8] = [UInt8(number & 0x7F)]
            number >>= 7
            while number > 0 {
                tail.insert(UInt8(number & 0x7F) | 0x80, at: 0)
                number >>= 7
            }
            return [first | 0x1F] + tail
        }

        var isConstructed: Bool { identifier.first.map { $0 & 0x20 != 0 } ?? false }

        /// Number of nodes in this subtree.
        var count: Int {
            switch content {
            case .primitive: return 1
            case .constructed(let children): return 1 + children.reduce(0) { $0 + $1.count }
            case .encapsulated(_, let inner): return 1 + inner.count
            }
        }

        /// The node at pre-order position `index` (0 = self).
        func node(at index: Int) -> Node {
            if index == 0 { return self }
            var i = index - 1
            switch content {
            case .primitive: return self
            case .encapsulated(_, let inner): return inner.node(at: i)
            case .constructed(let children):
                for child in children {
                    let c = child.count
                    if i < c { return child.node(at: i) }
                    i -= c
                }
                return self
            }
        }

        /// Applies `change` to the node at pre-order position `index`.
        mutating func update(at index: Int, _ change: (inout Node) -> Void) {
            if index == 0 { change(&self); return }
            var i = index - 1
            switch content {
            case .primitive: return
            case .encapsulated(let prefix, var inner):
                inner.update(at: i, change)
                content = .encapsulated(prefix: prefix, inner)
            case .constructed(var children):
                for k in children.indices {
                    let c = children[k].count
                    if i < c {
                        children[k].update(at: i, change)
                        content = .constructed(children)
                        return
                    }
                    i -= c
                }
            }
        }
    }

    static let universalTags: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0A, 0x0C, 0x13, 0x16, 0x17, 0x18, 0x30, 0x31, 0xA0, 0xA1, 0xA2, 0xA3, 0x80, 0x1F]
    static let boundaryContents: [[UInt8]] = [
        [], [0x00], [0x01], [0x7F], [0x80], [0xFF], [0x00, 0x80], [0xFF, 0x7F], [0x00, 0x00],
        [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], Array("991231235959Z".utf8), Array("20491231235960Z".utf8),
        Array("000229000000Z".utf8), [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A], [0x2A, 0x86, 0x48], [0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    ]

    /// One structural mutation at a random node.
    static func mutate(_ tree: inout Node, donors: [Node], rng: inout SplitMix64) {
        let size = tree.count
        let at = Int(rng.next() % UInt64(size))
        let kind = rng.next() % 15
        switch kind {
        case 0, 1:  // drop a child
            tree.update(at: at) { node in
                guard case .constructed(var children) = node.content, !children.isEmpty else { node.content = .constructed([]); return }
                children.remove(at: Int(rng.next() % UInt64(children.count)))
                node.content = .constructed(children)
            }
        case 2:  // duplicate a child
            tree.update(at: at) { node in
                guard case .constructed(var children) = node.content, !children.isEmpty else { return }
                let k = Int(rng.next() % UInt64(children.count))
                children.insert(children[k], at: k)
                node.content = .constructed(children)
            }
        case 3, 14:  // empty the node (twice as likely: empty SETs and SEQUENCEs are where parsers index blindly)
            tree.update(at: at) { node in
                switch node.content {
                case .constructed, .encapsulated: node.content = node.isConstructed ? .constructed([]) : .primitive([])
                case .primitive: node.content = .primitive([])
                }
            }
        case 4:  // change the tag
            tree.update(at: at) { node in
                switch rng.next() % 4 {
                case 0: node.identifier[0] ^= 0x20  // constructed bit (the content keeps its shape)
                case 1: node.identifier[0] ^= UInt8(0x40 << (rng.next() % 2))  // class
                case 2: node.identifier = [universalTags[Int(rng.next() % UInt64(universalTags.count))]]
                default: node.identifier[0] = (node.identifier[0] & 0xE0) | UInt8(truncatingIfNeeded: Int(node.identifier[0] & 0x1F) + (rng.next() % 2 == 0 ? 1 : -1)) & 0x1F
                }
            }
        case 5:  // length encoding
            tree.update(at: at) { node in
                switch rng.next() % 6 {
                case 0: node.length = .off(by: rng.next() % 2 == 0 ? 1 : -1)
                case 1: node.length = .off(by: Int(rng.next() % 300) - 150)
                case 2: node.length = .indefinite
                case 3: node.length = .long(octets: 1 + Int(rng.next() % 8))
                case 4: node.length = .raw([0x84, 0xFF, 0xFF, 0xFF, 0xFF])
                default: node.length = .raw([0x89] + [UInt8](repeating: 0x01, count: 9))
                }
            }
        case 6:  // swap two subtrees of this tree
            let other = Int(rng.next() % UInt64(size))
            let a = tree.node(at: at), b = tree.node(at: other)
            // Replace the later one first so the earlier position is still valid (replacements change sizes).
            let (first, second) = at < other ? (at, other) : (other, at)
            let (firstNode, secondNode) = at < other ? (a, b) : (b, a)
            if first != second, !isAncestor(tree, first, of: second) {
                tree.update(at: second) { $0 = firstNode }
                tree.update(at: first) { $0 = secondNode }
            }
        case 7:  // splice in a subtree of another sample
            let donor = donors[Int(rng.next() % UInt64(donors.count))]
            let piece = donor.node(at: Int(rng.next() % UInt64(donor.count)))
            tree.update(at: at) { $0 = piece }
        case 8, 9:  // boundary primitive content
            tree.update(at: at) { node in
                if rng.next() % 3 == 0 {
                    node.content = .primitive((0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                } else {
                    node.content = .primitive(boundaryContents[Int(rng.next() % UInt64(boundaryContents.count))])
                }
                if node.isConstructed, rng.next() % 2 == 0 { node.identifier[0] &= ~0x20 }
            }
        case 10:  // wrap in SEQUENCE or [0] EXPLICIT
            tree.update(at: at) { node in let tag: UInt8 = rng.next() % 2 == 0 ? 0x30 : 0xA0
                node = Node(identifier: [tag], content: .constructed([node])) }
        case 11:  // unwrap: the node becomes one of its children
            tree.update(at: at) { node in
                switch node.content {
                case .constructed(let children) where !children.isEmpty: node = children[Int(rng.next() % UInt64(children.count))]
                case .encapsulated(_, let inner): node = inner
                default: break
                }
            }
        case 12:  // reorder children
            tree.update(at: at) { node in
                guard case .constructed(var children) = node.content, children.count > 1 else { return }
                let i = Int(rng.next() % UInt64(children.count)), j = Int(rng.next() % UInt64(children.count))
                children.swapAt(i, j)
                node.content = .constructed(children)
            }
        default:  // insert a donor subtree as a child
            let donor = donors[Int(rng.next() % UInt64(donors.count))]
            let piece = donor.node(at: Int(rng.next() % UInt64(donor.count)))
            tree.update(at: at) { node in
                guard case .constructed(var children) = node.content else { return }
                children.insert(piece, at: Int(rng.next() % UInt64(children.count + 1)))
                node.content = .constructed(children)
            }
        }
    }

    /// Whether pre-order position `a` is an ancestor of `b` (then swapping them is meaningless).
    static func isAncestor(_ tree: Node, _ a: Int, of b: Int) -> Bool {
        b > a && b < a + tree.node(at: a).count
    }

    // MARK: - Targets

    struct Target {
        let name: String
        let seeds: [Node]
        let originals: [[UInt8]]
        /// Whole verification (a signature or chain decides): accepting changed bytes is a finding.
        let isVerification: Bool
        let rarity: Int
        /// Runs one input (mutated from seed `index`); returns whether it was accepted.
        let run: (Int, [UInt8]) -> Bool
    }

    static func makeTargets(_ s: Samples) throws(AttestationError) -> [Target] {
        let sgxCollateral = try IntelCollateral(json: s.sgxCollateralJSON)
        let tdxCollateral = try IntelCollateral(json: s.tdxCollateralJSON)
        let sgxQuote: IntelQuote, tdxQuote: IntelQuote
        do {
            sgxQuote = try IntelQuote(bytes: s.sgxQuote)
            tdxQuote = try IntelQuote(bytes: s.tdxQuote)
        } catch { throw .parse(error) }
        let sgxChain = try PEM.certificates(bytes: sgxQuote.pckCertificateChainPEM)
        let tdxChain = try PEM.certificates(bytes: tdxQuote.pckCertificateChainPEM)
        let tcbSigning = try PEM.certificates(sgxCollateral.tcbInfoIssuerChainPEM)
        let nitro: NitroDocument
        do { nitro = try NitroDocument(bytes: s.nitroDocument) } catch { throw .parse(error) }
        let anchors = TrustAnchors.production
        let x509Seeds = sgxChain + tdxChain + tcbSigning + [nitro.certificate] + nitro.caBundle
        let amdSeeds = [s.vcek] + anchors.amdCertificates
        let crlSeeds = [sgxCollateral.rootCACRL, sgxCollateral.pckCRL, tdxCollateral.pckCRL]
        let pck = try CertificateChain.certificate(sgxChain[0], "PCK")
        let tdxPCK = try CertificateChain.certificate(tdxChain[0], "PCK")
        let extensionSeeds = [pck, tdxPCK].compactMap { cert in cert.extensions.first { $0.oid.description == PCKExtension.oid }.map { Array($0.value) } }
        let crlIssuers = [try CertificateChain.certificate(anchors.intelRootCA, "root")] + [sgxCollateral, tdxCollateral].map { c in
            (try? PEM.certificates(c.pckCRLIssuerChainPEM)).flatMap { $0.first }.flatMap { try? CertificateChain.certificate($0, "CRL issuer") }
        }.compactMap { $0 }
        func trees(_ ders: [[UInt8]]) throws(AttestationError) -> [Node] {
            do { return try ders.map { try Node(der: $0) } } catch { throw .malformedCertificate(which: "fuzz seed", detail: "\(error)") }
        }
        let verifier = EvidenceVerifier()
        let intelTime = s.intelTime
        var targets: [Target] = []
        func add(_ name: String, _ ders: [[UInt8]], verification: Bool = false, rarity: Int = 1, _ run: @escaping (Int, [UInt8]) -> Bool) throws(AttestationError) {
            targets.append(Target(name: name, seeds: try trees(ders), originals: ders, isVerification: verification, rarity: rarity, run: run))
        }
        try add("amd certificate", amdSeeds) { _, der in (try? AMDCertificate(der: der, name: "fuzz")) != nil }
        try add("x509 certificate", x509Seeds) { _, der in
            guard let cert = try? CertificateChain.certificate(der, "fuzz") else { return false }
            _ = try? PCKExtension(certificate: cert)
            return true
        }
        try add("crl", crlSeeds) { _, der in
            guard let crl = try? CertificateRevocationList(der: der, name: "fuzz") else { return false }
            for issuer in crlIssuers { _ = try? crl.validate(issuer: issuer, at: intelTime, name: "fuzz") }
            _ = crl.isRevoked(pck)
            return true
        }
        try add("pck extension", extensionSeeds) { _, der in (try? PCKExtension(extensionValue: der)) != nil }
        // Chain validation with one mutated element (PCK leaf or its CA; Nitro leaf or an intermediate).
        try add("pck chain validation", Array(sgxChain.prefix(2)), verification: true, rarity: 4) { index, der in
            var chain = sgxChain
            chain[index] = der
            return (try? CertificateChain.validate(chain, root: anchors.intelRootCA, name: "PCK", at: intelTime)) != nil
        }
        let nitroChain = [nitro.certificate] + nitro.caBundle.reversed()
        try add("nitro chain validation", Array(nitroChain.dropLast()), verification: true, rarity: 8) { index, der in
            var chain = nitroChain
            chain[index] = der
            return (try? CertificateChain.validate(chain, root: anchors.nitroRoot, name: "Nitro", at: s.nitroTime)) != nil
        }
        // Whole verification paths.
        try add("snp verify (vcek)", [s.vcek], verification: true, rarity: 20) { _, der in
            (try? verifier.verify(s.snpReport, platform: .sevSNP, collateral: Collateral(certificates: [der]), at: s.snpTime)) != nil
        }
        // The ASK supplied with the evidence, to a verifier that pins only the ARK (else the pinned ASK would be used).
        let arks = anchors.amdCertificates.filter { der in (try? AMDCertificate(der: der, name: "ARK")).map { $0.subjectDER == $0.issuerDER } ?? false }
        let arkOnly = EvidenceVerifier(trustAnchors: TrustAnchors(intelRootCA: anchors.intelRootCA, amdCertificates: arks, nitroRoot: anchors.nitroRoot))
        let asks = anchors.amdCertificates.filter { !arks.contains($0) }
        try add("snp verify (ask)", asks, verification: true, rarity: 20) { _, der in
            (try? arkOnly.verify(s.snpReport, platform: .sevSNP, collateral: Collateral(certificates: [s.vcek, der]), at: s.snpTime)) != nil
        }
        try add("sgx verify (pck in quote)", [sgxChain[0]], verification: true, rarity: 20) { _, der in
            guard let quote = IntelQuoteSurgery.replacingPCKChain(s.sgxQuote, carriedPEM: sgxQuote.pckCertificateChainPEM, with: [der] + sgxChain.dropFirst())
            else { return false }
            return (try? verifier.verify(quote, platform: .sgx, at: intelTime)) != nil
        }
        try add("sgx verify (collateral crls)", [sgxCollateral.rootCACRL, sgxCollateral.pckCRL], verification: true, rarity: 20) { index, der in
            var collateral = sgxCollateral
            if index == 0 { collateral.rootCACRL = der } else { collateral.pckCRL = der }
            return (try? verifier.verify(s.sgxQuote, platform: .sgx, collateral: Collateral(intel: collateral), at: intelTime)) != nil
        }
        if let pki = s.amdTestPKI {
            let ark = try AMDCertificate(der: pki.ark, name: "test ARK")
            let testVerifier = EvidenceVerifier(trustAnchors: TrustAnchors(intelRootCA: anchors.intelRootCA, amdCertificates: [pki.ark, pki.ask], nitroRoot: anchors.nitroRoot))
            // Only the genuine CRL validates under the test ARK (its RSASSA-PSS signature covers everything else).
            try add("amd crl", [pki.crl], verification: true, rarity: 2) { _, der in
                guard let crl = try? CertificateRevocationList(der: der, name: "fuzz") else { return false }
                return (try? crl.validate(ark: ark, at: pki.time, name: "fuzz")) != nil
            }
            // Whole SNP verification with a mutated CRL: accepted = verified *and* the CRL counted as checked (a CRL
            // under another issuer name is skipped, which is not acceptance of the changed bytes).
            try add("snp verify (amd crl)", [pki.crl], verification: true, rarity: 20) { _, der in
                let collateral = Collateral(certificates: [pki.vcek], amdCRLs: [der])
                return (try? testVerifier.verify(pki.report, platform: .sevSNP, collateral: collateral, at: pki.time))?.revocationChecked ?? false
            }
        }
        return targets
    }

}

/// SplitMix64: a small, fast, seeded generator (the fuzzer must replay from its seed).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
