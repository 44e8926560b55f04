import Attestation
import Foundation

/// The node's local collateral cache directory, which the operator refreshes from Intel's PCS (or a PCCS) and
/// AMD's KDS; docs/attestation.md ("Collateral cache directory") lists the endpoints each file mirrors.
///
/// ```
/// DIR/intel/*.json   one dcap-qvl collateral JSON per platform model (FMSPC) and TEE (SGX or TDX)
/// DIR/amd/*.der      VCEK/VLEK certificates (KDS serves DER); ASK/ASVK may be added (DER, or PEM as *.pem)
/// DIR/amd/*.crl      AMD KDS CRLs, DER (`/vcek/v1/{product}/crl`); every CRL of a report's ARK is checked
/// ```
/// Every file is read and parsed once at start; a file that does not parse stops the node (`CollateralCache.LoadError`).
public enum CollateralDirectory {
    /// Bounds: a cache holds a handful of platform models and chips, each file a few KiB.
    public static let filesMax = 256
    public static let fileBytesMax = 1 << 20

    /// Why the directory could not be read.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case tooManyFiles(path: String, count: Int)
        case fileTooLarge(path: String, bytes: Int)
        case load(CollateralCache.LoadError)

        public var description: String {
            switch self {
            case .unreadable(let p, let r): "collateral directory: cannot read \(p): \(r)"
            case .tooManyFiles(let p, let n): "collateral directory: \(p) holds \(n) files (at most \(CollateralDirectory.filesMax))"
            case .fileTooLarge(let p, let n): "collateral directory: \(p) is \(n) bytes (at most \(CollateralDirectory.fileBytesMax))"
            case .load(let e): e.description
            }
        }
    }

    /// Reads `path` into a `CollateralCache` (missing `intel/` or `amd/` subdirectories are empty).
    public static func load(_ path: String, trustAnchors: TrustAnchors = .production) throws(Failure) -> CollateralCache {
        let intel = try files(in: path + "/intel", extensions: ["json"])
        var amd: [(name: String, der: [UInt8])] = []
        var crls: [(name: String, der: [UInt8])] = []
        for (name, bytes) in try files(in: path + "/amd", extensions: ["der", "pem", "crl"]) {
            if name.hasSuffix(".crl") {
                crls.append((name, bytes))
            } else if name.hasSuffix(".pem") {
                do {
                    for (i, der) in try PEM.certificates(bytes: bytes).enumerated() { amd.append(("\(name)#\(i)", der)) }
                } catch {
                    throw .load(.amdCertificate(file: name, reason: "\(error)"))
                }
            } else {
                amd.append((name, bytes))
            }
        }
        do {
            return try CollateralCache(intelCollateral: intel.map { (name: $0.name, json: $0.bytes) }, amdCertificates: amd,
                                       amdCRLs: crls, trustAnchors: trustAnchors)
        } catch {
            throw .load(error)
        }
    }

    static func files(in directory: String, extensions: Set<String>) throws(Failure) -> [(name: String, bytes: [UInt8])] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .unreadable(path: directory, reason: "\(error)")
        }
        let wanted = names.filter { extensions.contains(URL(fileURLWithPath: $0).pathExtension) }.sorted()
        guard wanted.count <= filesMax else { throw .tooManyFiles(path: directory, count: wanted.count) }
        var result: [(name: String, bytes: [UInt8])] = []
        for name in wanted {
            let file = directory + "/" + name
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            guard size <= fileBytesMax else { throw .fileTooLarge(path: file, bytes: size) }
            do { result.append((name, Array(try Data(contentsOf: URL(fileURLWithPath: file))))) } catch {
                throw .unreadable(path: file, reason: "\(error)")
            }
        }
        return result
    }
}
