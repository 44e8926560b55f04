// `swift run -c release bench [group…]`: prints each figure and, where a peer exists, the peer measured in the
// same run. Groups: see `groups` below; `all` runs every group.
let groups: [(String, (inout Harness) -> Void)] = [
    ("secp256k1", benchSecp256k1),
    ("network", benchNetwork),
    ("bitcoin", benchBitcoin),
    ("enclave", benchEnclave),
    ("mpc", benchMPC),
    ("mpc-replay", benchMPCReplay),
    ("attestation", benchAttestation),
    ("consensus", benchConsensus),
    ("ekep", benchEKEP),
    ("derfuzz", benchDERFuzz),
    ("ct", benchConstantTime),
    ("node", benchNode),
]

import Foundation

var harness = Harness()
let requested = Array(CommandLine.arguments.dropFirst())
if requested.isEmpty || requested.contains("--help") {
    print("usage: bench all | " + groups.map(\.0).joined(separator: " | ") + " …")
} else {
    for (name, run) in groups where requested.contains("all") || requested.contains(name) {
        run(&harness)
        fflush(nil)  // show each group's figures as soon as it finishes, even when piped
    }
}
