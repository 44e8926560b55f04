import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Secp256k1
import WireCodec

extension Mesh {
    /// Periodic work: redial missing peers with back-off, run re-attestation deadlines and retry late gossip pulls.
    func maintain() {
        let now = Self.now()
        var toDial: [(String, Int, String)] = []
        var expired: [(PeerID, any Channel)] = []
        var challenges: [(any Channel, [UInt8])] = []
        var unresponsive: [(PeerID, any Channel)] = []
        var probes: [any Channel] = []
        let limits = configuration.limits
        let checking = configuration.attestationChecker != nil
        var retries: [(any Channel, [UInt8])] = []
        state.withLockedValue { s in
            let late = s.gossip.expire(
                nowNanoseconds: now, timeoutNanoseconds: UInt64(limits.pendingPullTimeoutMilliseconds) * 1_000_000)
            retries = late.compactMap { pull in s.connections[pull.peer].map { ($0.channel, pull.hash) } }
            var targets: [(String, Int)] = configuration.bootstrap.map { ($0.host, $0.port) }
            for (peer, record) in s.table.records where s.admitted.contains(peer) && identity < peer {
                targets.append((record.host, Int(record.port)))
            }
            let connectedAddresses = Set(s.connections.keys.compactMap { s.addressOfPeer[$0] })
            for (host, port) in targets {
                let key = "\(host):\(port)"
                if connectedAddresses.contains(key) || s.dialing.contains(key) { continue }
                if let (_, next) = s.backoff[key], next > now { continue }
                s.dialing.insert(key)
                toDial.append((host, port, key))
            }
            for (peer, var connection) in s.connections {
                let silentFor = now &- max(connection.lastHeardNanoseconds, connection.openedNanoseconds)
                if let probe = connection.livenessProbeSentNanoseconds {
                    if now &- probe > UInt64(limits.livenessTimeoutMilliseconds) * 1_000_000 {
                        unresponsive.append((peer, connection.channel))
                    }
                } else if silentFor > UInt64(limits.livenessIntervalMilliseconds) * 1_000_000 {
                    connection.livenessProbeSentNanoseconds = now
                    s.connections[peer] = connection
                    probes.append(connection.channel)
                }
                if let challenge = connection.challenge {
                    if challenge.deadlineNanoseconds < now { expired.append((peer, connection.channel)) }
                } else if checking {
                    let due = connection.openedNanoseconds + UInt64(limits.reattestationIntervalMilliseconds) * 1_000_000
                    if now >= due || connection.openedNanoseconds == 0 {
                        let nonce = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &s.rng) }
                        connection.challenge = (nonce, now + UInt64(limits.reattestationTimeoutMilliseconds) * 1_000_000)
                        s.connections[peer] = connection
                        challenges.append((connection.channel, nonce))
                    }
                }
            }
        }
        for (peer, channel) in expired {
            report(.evicted(peer, reason: "re-attestation: no answer before the deadline"))
            logger.warning("evicting peer", metadata: ["peer": "\(peer)", "reason": "re-attestation timeout"])
            channel.close(promise: nil)
        }
        for (channel, hash) in retries { send(.gossipPull, payload: [], hash: hash, on: channel) }
        for (channel, nonce) in challenges {
            send(.attestationChallenge, payload: nonce, on: channel)
        }
        for channel in probes {
            // Ping nonce 0 is reserved for liveness probes; any traffic from the peer clears the probe.
            send(.ping, payload: [UInt8](repeating: 0, count: 8), on: channel)
        }
        for (peer, channel) in unresponsive {
            logger.notice("closing unresponsive peer", metadata: ["peer": "\(peer)"])
            closed(peer: peer, channel: channel, reason: "peer unresponsive")
            channel.close(promise: nil)
        }
        for (host, port, key) in toDial {
            Task { [self] in
                do {
                    _ = try await connect(host: host, port: port)
                    state.withLockedValue { s in
                        s.dialing.remove(key)
                        s.backoff[key] = nil
                    }
                } catch {
                    state.withLockedValue { s in
                        s.dialing.remove(key)
                        var (backoff, _) = s.backoff[key] ?? (
                            Backoff(
                                initialMilliseconds: limits.reconnectInitialMilliseconds,
                                maximumMilliseconds: limits.reconnectMaximumMilliseconds, jitter: limits.reconnectJitter), 0
                        )
                        let delay = backoff.nextDelayMilliseconds(using: &s.rng)
                        s.backoff[key] = (backoff, Self.now() + UInt64(delay) * 1_000_000)
                    }
                }
            }
        }
    }
}
