import Crypto
import Foundation
import Logging

/// A node's data directory: configuration, sealed store, rollback anchor and (simulated platform only) the
/// simulated machine's secrets.
///
/// ```
/// DIR/darknode.toml         commented configuration
/// DIR/store.sqlite          SealedStore (+ -wal, -shm)
/// DIR/store.anchor          FileRollbackAnchor (see its documentation for where it should really live)
/// DIR/simulated-machine/    simulated platform key and root secret (two directories = two machines)
/// ```
public struct DataDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var configurationPath: String { PlatformFiles.join(path, "darknode.toml") }
    public var storePath: String { PlatformFiles.join(path, "store.sqlite") }
    public var anchorPath: String { PlatformFiles.join(path, "store.anchor") }
    public var simulatedMachinePath: String { PlatformFiles.join(path, "simulated-machine") }

    /// Why a data directory could not be initialised or opened.
    public enum Failure: Error, Equatable, Sendable {
        /// `initialize` found a store or configuration already there.
        case alreadyInitialized(path: String)
        /// `open` found no configuration file.
        case notInitialized(path: String)
        /// The configuration file could not be read or parsed.
        case configuration(String)
    }

    /// The platform environment for this directory (fake trees in tests go through `overrides`).
    public func environment(_ configuration: EnclaveConfiguration, overrides: PlatformEnvironment? = nil) -> PlatformEnvironment {
        var environment = overrides ?? PlatformEnvironment(simulatedMachineDirectory: simulatedMachinePath)
        if let key = configuration.provisionedSealingKeyPath { environment.provisionedSealingKeyPath = key }
        return environment
    }

    /// Creates the directory, the platform's sealing key, the sealed store with a new identity key, and the
    /// commented configuration file (written last, so a failed init leaves no half-made node behind it).
    /// `otherSections` is appended to the file after `[enclave]` (the node's own sections, written by the caller that
    /// owns them).
    public func initialize(
        configuration: EnclaveConfiguration, otherSections: String = "", environment overrides: PlatformEnvironment? = nil, logger: Logger
    ) throws -> OpenedNode {
        guard !FileManager.default.fileExists(atPath: configurationPath), !FileManager.default.fileExists(atPath: storePath)
        else { throw Failure.alreadyInitialized(path: path) }
        let platform = try PlatformSelector.open(
            configuration.platform, environment: environment(configuration, overrides: overrides), logger: logger)
        let sealingKey = try platform.sealingKey(policy: configuration.sealingPolicy)
        try PlatformFiles.makeDirectories(path)
        // The directory may have existed already, with any mode: owner-only before anything secret goes in.
        try PlatformFiles.restrictTree(path)
        let anchor = FileRollbackAnchor(path: anchorPath, sealingKey: sealingKey)
        let store = try SealedStore.create(path: storePath, sealingKey: sealingKey, anchor: anchor)
        let identity = try NodeIdentity.create(in: store)
        do {
            try PlatformFiles.createSecretFile(configurationPath, Array((configuration.defaultFileText + otherSections).utf8))
        } catch {
            throw Failure.configuration("cannot write \(configurationPath): \(error)")
        }
        try PlatformFiles.restrictTree(path)
        return OpenedNode(configuration: configuration, platform: platform, store: store, identity: identity)
    }

    /// Reads the configuration, opens the platform (flag override first), the store and the identity.
    public func open(
        platformOverride: PlatformChoice? = nil, environment overrides: PlatformEnvironment? = nil, logger: Logger
    ) throws -> OpenedNode {
        var configuration = try readConfiguration()
        // Tighten modes someone loosened before SQLite (re)creates its WAL files, which copy the database's mode.
        try PlatformFiles.restrictTree(path)
        if let platformOverride { configuration.platform = platformOverride }
        let platform = try PlatformSelector.open(
            configuration.platform, environment: environment(configuration, overrides: overrides), logger: logger)
        let sealingKey = try platform.sealingKey(policy: configuration.sealingPolicy)
        let anchor = FileRollbackAnchor(path: anchorPath, sealingKey: sealingKey)
        let store = try SealedStore.open(path: storePath, sealingKey: sealingKey, anchor: anchor)
        let identity = try NodeIdentity.load(from: store)
        return OpenedNode(configuration: configuration, platform: platform, store: store, identity: identity)
    }

    /// Replaces the configuration file (mode 0600) with `text`, after checking that its `[enclave]` section parses.
    public func replaceConfiguration(text: String) throws {
        _ = try EnclaveConfiguration.parse(text)
        try PlatformFiles.replaceFile(configurationPath, Array(text.utf8))
    }

    /// The configuration file's text (bounded), for the sections other modules read.
    public func configurationText() throws -> String {
        guard FileManager.default.fileExists(atPath: configurationPath) else { throw Failure.notInitialized(path: path) }
        guard let data = FileManager.default.contents(atPath: configurationPath) else {
            throw Failure.configuration("cannot read \(configurationPath)")
        }
        guard data.count <= ConfigurationFile.fileBytesMax else { throw ConfigurationError.tooLarge(data.count) }
        return String(decoding: data, as: UTF8.self)
    }

    public func readConfiguration() throws -> EnclaveConfiguration {
        try EnclaveConfiguration.parse(configurationText())
    }
}

/// What a node holds once its data directory is open.
public struct OpenedNode: Sendable {
    public let configuration: EnclaveConfiguration
    public let platform: any EnclavePlatform
    public let store: SealedStore
    public let identity: NodeIdentity
}
