// Shared helpers for the Bitcoin tests: hex, JSON access, deterministic keys.
import Bitcoin
import Foundation
import Secp256k1
import TestSupport

func hex(_ s: String) -> [UInt8] {
    guard let b = Hex.decode(s) else { fatalError("bad hex in test: \(s)") }
    return b
}

func jsonObject(_ path: String) throws -> Any {
    try TestData.jsonObject(path)
}

/// A test-data JSON file whose top level must be a `T` (for example `[String: Any]`); any other shape is a thrown
/// error naming the file.
func jsonObject<T>(_ path: String, as type: T.Type) throws -> T {
    guard let value = try TestData.jsonObject(path) as? T else {
        throw TestData.Failure(path: TestData.url(path).path, reason: "top-level JSON is not \(T.self)")
    }
    return value
}

/// Deterministic test key number `n` (scalar n + 0x1000, never zero).
func testKey(_ n: Int) -> PrivateKey {
    var bytes = [UInt8](repeating: 0, count: 32)
    let v = UInt64(n) + 0x1000
    for i in 0..<8 { bytes[31 - i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    bytes[0] = 0x5A
    return try! PrivateKey(bytes: bytes)
}
