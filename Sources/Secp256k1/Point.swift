import CSecp256k1

/// Why a point encoding was rejected.
public enum PointError: Error, Equatable, Sendable {
    /// Not 1 (identity), 33 (compressed) or 65 (uncompressed) bytes.
    case invalidLength(Int)
    /// The prefix byte does not match the length (02/03 for 33 bytes, 04 for 65 bytes, 00 for the identity).
    case invalidPrefix(UInt8)
    /// The coordinates are not on the curve, or not below the field prime.
    case notOnCurve
    /// The identity was given where a curve point is required (e.g. a public key).
    case identityNotAllowed
}

/// A point of the secp256k1 group, including the identity (point at infinity).
///
/// Finite points are held in libsecp256k1's opaque `secp256k1_pubkey`, so group operations run in
/// libsecp256k1's constant-time code. libsecp256k1 cannot represent the identity, but MPC sums can reach it
/// (e.g. shares of zero), so it is an explicit case here.
public struct Point: Sendable {
    @usableFromInline
    enum Storage: Sendable {
        case identity
        case finite(secp256k1_pubkey)
    }

    @usableFromInline var storage: Storage

    init(storage: Storage) { self.storage = storage }

    /// The point at infinity, the group's neutral element.
    public static let identity = Point(storage: .identity)

    /// The standard generator G.
    public static let generator: Point = Point.generatorMultiple(Scalar.one)

    /// Whether this is the identity.
    public var isIdentity: Bool {
        if case .identity = storage { return true }
        return false
    }
}

// MARK: - Encoding

extension Point {
    /// Parses a SEC1 encoding: 33-byte compressed, 65-byte uncompressed, or the single byte 00 for the identity.
    public init(encoded bytes: some Collection<UInt8>) throws(PointError) {
        let raw = Array(bytes)
        switch raw.count {
        case 1:
            guard raw[0] == 0 else { throw .invalidPrefix(raw[0]) }
            self = .identity
            return
        case 33:
            guard raw[0] == 2 || raw[0] == 3 else { throw .invalidPrefix(raw[0]) }
        case 65:
            // Hybrid encodings (06/07) are deliberately refused: nothing we talk to produces them.
            guard raw[0] == 4 else { throw .invalidPrefix(raw[0]) }
        default:
            throw .invalidLength(raw.count)
        }
        var key = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(Secp256k1Context.shared, &key, raw, raw.count) == 1 else {
            throw .notOnCurve
        }
        self.init(storage: .finite(key))
    }

    /// Parses a SEC1 encoding that must be a finite point (public keys).
    public init(publicKeyEncoding bytes: some Collection<UInt8>) throws(PointError) {
        let p = try Point(encoded: bytes)
        guard !p.isIdentity else { throw .identityNotAllowed }
        self = p
    }

    /// The SEC1 encoding: 33 bytes compressed (default) or 65 bytes uncompressed; [0x00] for the identity.
    public func serialized(compressed: Bool = true) -> [UInt8] {
        guard case .finite(var key) = storage else { return [0] }
        var out = [UInt8](repeating: 0, count: compressed ? 33 : 65)
        var length = out.count
        let flags = UInt32(compressed ? SECP256K1_EC_COMPRESSED : SECP256K1_EC_UNCOMPRESSED)
        let ok = secp256k1_ec_pubkey_serialize(Secp256k1Context.shared, &out, &length, &key, flags)
        precondition(ok == 1 && length == out.count)
        return out
    }

    /// The 33-byte compressed encoding; [0x00] for the identity.
    public var compressed: [UInt8] { serialized(compressed: true) }

    /// The 65-byte uncompressed encoding; [0x00] for the identity.
    public var uncompressed: [UInt8] { serialized(compressed: false) }

    /// The affine x coordinate as 32 big-endian bytes; nil for the identity.
    public var xCoordinate: [UInt8]? {
        isIdentity ? nil : Array(uncompressed[1..<33])
    }

    /// Whether the affine y coordinate is odd; nil for the identity.
    public var hasOddY: Bool? {
        isIdentity ? nil : (uncompressed[64] & 1) == 1
    }

    var pubkey: secp256k1_pubkey? {
        if case .finite(let key) = storage { return key }
        return nil
    }
}

// MARK: - Group operations

extension Point {
    /// k·G. Constant-time in k (libsecp256k1's blinded generator multiplication). 0·G is the identity.
    public static func generatorMultiple(_ k: Scalar) -> Point {
        if k.isZero { return .identity }
        var key = secp256k1_pubkey()
        let bytes = k.bytes
        let ok = secp256k1_ec_pubkey_create(Secp256k1Context.shared, &key, bytes)
        precondition(ok == 1, "a non-zero scalar below n is a valid secret key")
        return Point(storage: .finite(key))
    }

    /// k·P. Variable-time in k (`ec_pubkey_tweak_mul` runs `secp256k1_ecmult`): for public scalars only; use
    /// `timesSecret` for secret ones. Either factor may be zero or the identity, giving the identity.
    public static func * (point: Point, k: Scalar) -> Point {
        guard case .finite(var key) = point.storage, !k.isZero else { return .identity }
        let bytes = k.bytes
        let ok = secp256k1_ec_pubkey_tweak_mul(Secp256k1Context.shared, &key, bytes)
        precondition(ok == 1, "multiplying a finite point by a non-zero scalar below n cannot fail")
        return Point(storage: .finite(key))
    }

    /// k·P.
    public static func * (k: Scalar, point: Point) -> Point { point * k }

    /// P + Q. P + (−P) gives the identity.
    public static func + (a: Point, b: Point) -> Point {
        sum([a, b])
    }

    /// −P.
    public static prefix func - (a: Point) -> Point {
        guard case .finite(var key) = a.storage else { return .identity }
        let ok = secp256k1_ec_pubkey_negate(Secp256k1Context.shared, &key)
        precondition(ok == 1)
        return Point(storage: .finite(key))
    }

    /// P − Q.
    public static func - (a: Point, b: Point) -> Point { a + (-b) }

    public static func += (a: inout Point, b: Point) { a = a + b }

    /// The sum of many points in one call (identities are skipped; an empty or cancelling sum is the identity).
    public static func sum(_ points: [Point]) -> Point {
        var keys: [secp256k1_pubkey] = []
        keys.reserveCapacity(points.count)
        for p in points {
            if case .finite(let key) = p.storage { keys.append(key) }
        }
        if keys.isEmpty { return .identity }
        if keys.count == 1 { return Point(storage: .finite(keys[0])) }
        var result = secp256k1_pubkey()
        let ok: Int32 = keys.withUnsafeBufferPointer { buffer in
            var pointers: [UnsafePointer<secp256k1_pubkey>?] = []
            pointers.reserveCapacity(buffer.count)
            for i in 0..<buffer.count { pointers.append(buffer.baseAddress! + i) }
            return secp256k1_ec_pubkey_combine(Secp256k1Context.shared, &result, pointers, pointers.count)
        }
        // libsecp256k1 reports a sum at infinity as failure; no other failure is possible for valid inputs.
        guard ok == 1 else { return .identity }
        return Point(storage: .finite(result))
    }
}

// MARK: - Equality and hashing

extension Point: Equatable {
    public static func == (a: Point, b: Point) -> Bool {
        switch (a.storage, b.storage) {
        case (.identity, .identity): return true
        case (.finite(var x), .finite(var y)):
            return secp256k1_ec_pubkey_cmp(Secp256k1Context.shared, &x, &y) == 0
        default: return false
        }
    }
}

extension Point: Hashable {
    public func hash(into hasher: inout Hasher) {
        hasher.combine(compressed)
    }
}

extension Point: CustomStringConvertible {
    public var description: String {
        isIdentity ? "Point(identity)" : "Point(\(compressed.map { byteHex($0) }.joined()))"
    }
}
