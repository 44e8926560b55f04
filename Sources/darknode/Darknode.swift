import ArgumentParser

/// The `darknode` command-line tool: run a node, a local network, and the checks around them.
@main
struct Darknode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "darknode",
        abstract: "A RenVM-style darknode that runs inside a TEE (SGX, TDX, SEV-SNP) or, insecurely, a simulated one.",
        version: DarknodeVersion.version,
        subcommands: [
            VersionCommand.self,
            RunCommand.self,
            LocalnetCommand.self,
            PeerCommand.self,
            GatewayCommand.self,
            InitCommand.self,
            MPCCommand.self,
            AttestCommand.self,
            SimulateConsensusCommand.self,
        ]
    )
}
