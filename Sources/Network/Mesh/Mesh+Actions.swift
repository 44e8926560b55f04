import Foundation
import NIOCore
import WireCodec

extension Mesh {
    /// Carries out the state's actions, in order. `channels` holds the channels they name, looked up with the
    /// state under the same lock.
    func perform(_ actions: [MeshAction], _ channels: [ConnectionID: any Channel]) {
        for action in actions {
            if case .report(let event) = action {
                continuation.yield(event)
                log(event)
                continue
            }
            guard let id = action.connection else {
                performGlobal(action, channels)
                continue
            }
            guard let channel = channels[id] else { continue }
            switch action {
            case .authenticate(_, let role): authenticate(channel, id, role: role)
            case .close: channel.close(promise: nil)
            case .closeAsDuplicate(_, let kept):
                // A dialler waiting on this connection learns the one that stays.
                channel.pipeline.fireUserInboundEventTriggered(MeshReady(peer: kept))
                channel.close(promise: nil)
            case .sendVerdict(_, let keep):
                channel.writeAndFlush(ByteBuffer(bytes: [keep ? ConnectionVerdict.keep : ConnectionVerdict.drop]), promise: nil)
            case .awaitVerdict: onLoop(channel) { try channel.pipeline.syncOperations.addHandler(ConnectionVerdictHandler(mesh: self, connection: id)) }
            case .install(_, let peer): install(channel, id, peer: peer)
            case .send(_, let envelope, let bytes): write(envelope, bytes: bytes, on: channel, id)
            case .sendAddresses(_, let known): sendAddresses(known, on: id)
            case .verifyAddresses(_, let signed): verifyAddresses(signed, on: id)
            case .answerChallenge(_, let nonce): answerChallenge(nonce, on: id)
            case .checkAttestation(_, let peer, let platform, let evidence, let nonce):
                let failure = configuration.attestationChecker?(peer, platform, evidence, nonce)
                run(.attestationChecked(id, nonce: nonce, failure: failure))
            case .report, .completePing, .setReadsPaused, .dial: break
            }
        }
    }

    private func performGlobal(_ action: MeshAction, _ channels: [ConnectionID: any Channel]) {
        switch action {
        case .completePing(let nonce): core.withLockedValue { $0.pings.removeValue(forKey: nonce) }?.succeed(())
        case .setReadsPaused: for channel in channels.values { applyReadState(channel) }
        case .dial(let target, let host, let port): Task { [self] in _ = try? await connect(host: host, port: port, target: target) }
        default: break
        }
    }

    private func log(_ event: MeshEvent) {
        switch event {
        case .connected(let peer):
            logger.info("peer connected", metadata: ["peer": "\(peer.identity)", "platform": "\(peer.platform)"])
        case .disconnected(let peer, let reason):
            logger.info("peer disconnected", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        case .refused(let peer, let reason):
            logger.notice("refusing peer", metadata: ["peer": "\(peer.map { "\($0)" } ?? "unauthenticated")", "reason": "\(reason)"])
        case .evicted(let peer, let reason):
            logger.warning("evicting peer", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        case .message: break
        }
    }

    /// Writes an envelope counted in the connection's outbound queue; the count drops once it is flushed.
    func write(_ envelope: Darknode_V1_Envelope, bytes: Int, on channel: any Channel, _ id: ConnectionID) {
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { [self] _ in core.withLockedValue { $0.state.written(bytes, on: id) } }
        channel.writeAndFlush(envelope, promise: written)
    }

    /// Our own signed address record (it needs the wall clock), then the records we know.
    private func sendAddresses(_ known: [PeerAddressRecord], on id: ConnectionID) {
        guard
            let own = try? PeerAddressRecord.make(
                identity: configuration.identity, host: configuration.host, port: UInt16(listenPort),
                timestampMilliseconds: UInt64(Date().timeIntervalSince1970 * 1000))
        else { return }
        var list = Darknode_V1_PeerAddressList()
        list.records = [own.signed] + known.map(\.signed)
        guard let bytes: [UInt8] = try? list.serializedBytes() else { return }
        mutate { state, actions in state.enqueue(state.envelope(.peerAddresses, payload: bytes), on: id, into: &actions) }
    }

    private func verifyAddresses(_ signed: [Darknode_V1_SignedPayload], on id: ConnectionID) {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let maximumAge = configuration.limits.addressRecordMaximumAge
        let records = signed.compactMap { try? PeerAddressRecord(verifying: $0, nowMilliseconds: now, maximumAge: maximumAge) }
        run(.addressesVerified(id, records))
    }

    /// Evidence is produced off the event loop (a platform quote can take milliseconds to seconds).
    private func answerChallenge(_ nonce: [UInt8], on id: ConnectionID) {
        guard let responder = configuration.attestationResponder else { return }
        Task.detached { [self] in
            do {
                let (platform, evidence) = try responder(nonce)
                var response = Darknode_V1_AttestationResponse()
                response.nonce = Data(nonce)
                response.platform = platform
                response.evidence = Data(evidence)
                let bytes: [UInt8] = try response.serializedBytes()
                mutate { state, actions in
                    state.enqueue(state.envelope(.attestationResponse, payload: bytes), on: id, into: &actions)
                }
            } catch {
                logger.error("cannot produce evidence for re-attestation", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Runs pipeline changes on the channel's event loop (at once when already there, keeping their order).
    func onLoop(_ channel: any Channel, _ body: @escaping @Sendable () throws -> Void) {
        let guarded: @Sendable () -> Void = {
            do { try body() } catch { channel.close(promise: nil) }
        }
        if channel.eventLoop.inEventLoop { guarded() } else { channel.eventLoop.execute(guarded) }
    }
}
