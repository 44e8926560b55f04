import Foundation
import Secp256k1
import TestSupport

@testable import Attestation

/// The real evidence in Tests/Fixtures/attestation and the fixed verification times its SOURCES.md gives.
enum Samples {
    static func bytes(_ path: String) throws -> [UInt8] { try TestData.bytes("attestation/" + path) }

    static func time(_ iso: String) -> Date { RFC3339.parse(iso)! }

    static let sgxTime = time("2025-07-01T00:00:00Z")
    static let tdxTime = time("2025-07-01T00:00:00Z")
    static let snpTime = time("2024-06-01T00:00:00Z")
    static let nitroTime = time("2024-09-07T14:37:39Z")
    static let nitroDebugTime = time("2024-09-07T14:38:06Z")

    static func sgxQuote() throws -> [UInt8] { try bytes("intel-sgx/sgx_quote_v3.bin") }
    static func sgxDebugQuote() throws -> [UInt8] { try bytes("intel-sgx/sgx_quote_v3_debug_enclave.bin") }
    static func tdxQuote() throws -> [UInt8] { try bytes("intel-tdx/tdx_quote_v4.bin") }
    static func sgxCollateral() throws -> IntelCollateral { try IntelCollateral(json: bytes("intel-sgx/sgx_quote_v3_collateral.json")) }
    static func tdxCollateral() throws -> IntelCollateral { try IntelCollateral(json: bytes("intel-tdx/tdx_quote_v4_collateral.json")) }
    static func snpReport() throws -> [UInt8] { try bytes("amd-sev-snp/milan_vcek_report_v2.bin") }
    static func snpVCEK() throws -> [UInt8] { try bytes("amd-sev-snp/milan_vcek_report_v2.vcek.der") }
    static func snpDebugReport() throws -> [UInt8] { try bytes("amd-sev-snp/milan_vcek_report_v2_debug.bin") }
    static func snpDebugVCEK() throws -> [UInt8] { try bytes("amd-sev-snp/milan_vcek_report_v2_debug.vcek.der") }
    static func nitro(_ name: String = "nitro_attestation.b64") throws -> [UInt8] {
        let text = String(decoding: try bytes("aws-nitro/" + name), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: text) else {
            throw TestData.Failure(path: TestData.url("attestation/aws-nitro/" + name).path, reason: "not base64")
        }
        return [UInt8](data)
    }

    static func hex(_ s: String) -> [UInt8] { Hex.decode(s)! }
}
