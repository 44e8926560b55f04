import Secp256k1
import SimulationKit

/// Identity keys derived from a small seed, so that separate test processes (the partition test's two
/// `darknode-meshtest net soak` nodes) agree on each other's identities without exchanging them. Anyone who knows
/// the seed has the key: test use only, never a node's identity.
public enum SeededIdentity {
    public static func key(seed: UInt64) -> PrivateKey {
        var random = DeterministicRNG(seed: seed)
        return PrivateKey.generate(using: &random)
    }
}
