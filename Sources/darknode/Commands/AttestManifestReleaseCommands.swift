import ArgumentParser
import Attestation
import Foundation
import Secp256k1

/// The release-manager side of `darknode attest manifest`: make release keys, and write the manifest body that
/// the k-of-m release keys then sign (`sign`). Signing and verifying live in `AttestManifestCommand`; the whole
/// workflow is in docs/releases.md.
extension AttestManifestCommand {
    /// `darknode attest manifest keygen --out FILE`: one release key.
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a release key: write its private key (hex, mode 0600) and print its public key.",
            discussion: """
                Each release-key holder runs this once, on the machine that will hold the key (ideally offline), \
                and publishes only the printed public key. Refuses to overwrite an existing file.
                """)

        @Option(help: "Where to write the 32-byte secp256k1 private key as hex (created with mode 0600).")
        var out: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) exists: refusing to overwrite a key") }
            let key = PrivateKey.generate()
            let created = FileManager.default.createFile(
                atPath: out, contents: Data((Hex.encode(key.bytes) + "\n").utf8), attributes: [.posixPermissions: 0o600])
            guard created else { throw ValidationError("cannot create \(out)") }
            print(Hex.encode(key.publicKey.compressed))
        }
    }

    /// `darknode attest manifest add-release`: a new manifest body, or an existing one with one more release.
    struct AddRelease: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-release",
            abstract: "Add a release and its measurements to a manifest body (or start a new body); print the body JSON.",
            discussion: """
                --entry names one platform entry: PLATFORM:NAME=HEX[,NAME=HEX…], e.g. \
                simulated:measurement=<sha256 of the binary>, sgx:mrenclave=<hex>,mrsigner=<hex>, \
                tdx:mrtd=<hex>,rtmr0=<hex>,rtmr1=<hex>,rtmr2=<hex>,rtmr3=<hex>, sev-snp:measurement=<hex>. A TDX \
                entry pins every RTMR or leaves one open with a reason: rtmr3=open:<reason without commas>. Repeatable: one \
                release may list several platforms and several entries per platform. \
                --to may be a body or a signed manifest; the result is always an unsigned body, since any change \
                to the body invalidates the old signatures.
                """)

        @Option(help: "An existing manifest body or signed manifest to add to; a new body when omitted.")
        var to: String?

        @Option(name: .customLong("release"), help: "The release version, e.g. 1.1.0 (must not be in the body yet).")
        var version: String

        @Option(help: "PLATFORM:NAME=HEX[,NAME=HEX…]; repeatable.")
        var entry: [String] = []

        @Option(help: "Write the body here instead of standard output.")
        var output: String?

        func run() throws {
            guard !entry.isEmpty else { throw ValidationError("give at least one --entry") }
            var object = try ManifestBodyFile.load(to)
            var releases = object["releases"] as? [[String: Any]] ?? []
            var platforms: [String: [[String: String]]] = [:]
            for text in entry {
                let (platform, fields) = try Self.parseEntry(text)
                platforms[platform.rawValue, default: []].append(fields)
            }
            releases.append(["version": version, "platforms": platforms])
            object["releases"] = releases
            try ManifestBodyFile.write(object, to: output)
        }

        static func parseEntry(_ text: String) throws -> (AttestationPlatform, [String: String]) {
            guard let colon = text.firstIndex(of: ":") else { throw ValidationError("--entry \(text): expected PLATFORM:NAME=HEX,…") }
            let name = String(text[..<colon])
            guard let platform = AttestationPlatform(rawValue: name) else {
                throw ValidationError("--entry \(text): unknown platform \(name) (sgx, tdx, sev-snp, nitro, simulated)")
            }
            var fields: [String: String] = [:]
            for pair in text[text.index(after: colon)...].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
                if platform == .tdx, parts.count == 2, parts[0].lowercased().hasPrefix("rtmr"), parts[1].hasPrefix("open:") {
                    guard fields.updateValue(parts[1], forKey: parts[0].lowercased()) == nil else {
                        throw ValidationError("--entry \(text): \(parts[0]) given twice")
                    }
                    continue
                }
                guard parts.count == 2, !parts[0].isEmpty, let bytes = Hex.decode(parts[1]), !bytes.isEmpty else {
                    throw ValidationError("--entry \(text): \(pair) is not NAME=HEX")
                }
                guard fields.updateValue(Hex.encode(bytes), forKey: parts[0].lowercased()) == nil else {
                    throw ValidationError("--entry \(text): \(parts[0]) given twice")
                }
            }
            return (platform, fields)
        }
    }

    /// `darknode attest manifest retire-release`: the body without one release (the last step of an upgrade).
    struct RetireRelease: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire-release",
            abstract: "Remove a release from a manifest body (or from a signed manifest's body); print the new body JSON.",
            discussion: """
                Retire a release only after every node runs a later one that an already published manifest admits: \
                nodes that load the new manifest stop admitting the retired measurement.
                """)

        @Argument(help: "A manifest body or signed manifest.")
        var from: String

        @Option(name: .customLong("release"), help: "The version to remove.")
        var version: String

        @Option(help: "Write the body here instead of standard output.")
        var output: String?

        func run() throws {
            var object = try ManifestBodyFile.load(from)
            let releases = object["releases"] as? [[String: Any]] ?? []
            let kept = releases.filter { ($0["version"] as? String) != version }
            guard kept.count < releases.count else { throw ValidationError("\(from) has no release \(version)") }
            object["releases"] = kept
            try ManifestBodyFile.write(object, to: output)
        }
    }
}

/// Reading and writing manifest bodies for the commands above. Every body written parses as a `ReleaseManifest`,
/// so a typo is caught here and not by the release-key holders or the nodes.
enum ManifestBodyFile {
    /// The body of `path` (a body or a signed manifest) as a JSON object; a new, empty body when `path` is nil.
    static func load(_ path: String?) throws -> [String: Any] {
        guard let path else { return ["format": ReleaseManifest.currentFormat, "releases": [[String: Any]]()] }
        let bytes = try EvidenceFile.read(path)
        var body = bytes
        if let signed = try? SignedReleaseManifest(json: bytes) {
            body = signed.body
            if !signed.signatures.isEmpty {
                FileHandle.standardError.write(Data("note: \(path) is signed; the new body must be signed again\n".utf8))
            }
        }
        do { _ = try ReleaseManifest(body: body) } catch { throw ValidationError("\(path): \(error)") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw ValidationError("\(path) is not a JSON object")
        }
        return object
    }

    /// Writes `object` as sorted, indented JSON (so every holder can read what they sign) after checking it parses.
    static func write(_ object: [String: Any], to output: String?) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        do { _ = try ReleaseManifest(body: Array(data)) } catch { throw ValidationError("\(error)") }
        if let output {
            try data.write(to: URL(fileURLWithPath: output))
        } else {
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
