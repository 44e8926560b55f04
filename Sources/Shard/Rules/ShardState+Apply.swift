import Bitcoin
import Consensus
import Crypto
import Secp256k1

extension ShardState {
    /// Checks that `block` is the next block and every transaction in it is valid, and applies it. All or nothing:
    /// on any error `self` is unchanged. Returns what happened, in order.
    @discardableResult
    public mutating func apply(_ block: ShardBlock) throws(ShardError) -> [ShardEvent] {
        var next = self
        let events = try next.applyUnchecked(block)
        self = next
        return events
    }

    /// Validates `block` against this state without changing it: the consensus validity predicate.
    public func validate(_ block: ShardBlock) throws(ShardError) {
        var scratch = self
        _ = try scratch.applyUnchecked(block)
    }

    /// Applies one transaction as if it were in the next block (mempool admission and block building check
    /// candidates this way). Presignature assignment happens only at the end of a block. Every transaction is
    /// checked completely before it changes anything, so a refused candidate leaves the state as it was without a
    /// copy of the state per candidate.
    public mutating func applyCandidate(_ tx: ShardTransaction) throws(ShardError) -> [ShardEvent] {
        try applyTransaction(tx, height: height + 1)
    }

    private mutating func applyUnchecked(_ block: ShardBlock) throws(ShardError) -> [ShardEvent] {
        guard block.height == height + 1 else { throw .wrongHeight(expected: height + 1, found: block.height) }
        guard block.previousHash == lastBlockHash else { throw .wrongPreviousHash }
        guard block.epoch == epoch else { throw .wrongEpoch(expected: epoch, found: block.epoch) }
        guard block.stateRoot == root else { throw .wrongStateRoot }
        guard block.transactions.count <= ShardLimits.transactionsPerBlockMax else {
            throw .oversize(field: "transactions", count: block.transactions.count, limit: ShardLimits.transactionsPerBlockMax)
        }
        var events: [ShardEvent] = []
        for tx in block.transactions { events += try applyTransaction(tx, height: block.height) }
        events += assignPresignatures()
        expireMPCSlots(at: block.height)
        height = block.height
        lastBlockHash = block.hash
        encodedAtRoot = encoded
        root = Self.root(of: encodedAtRoot)
        return events
    }

    mutating func applyTransaction(_ tx: ShardTransaction, height: UInt64) throws(ShardError) -> [ShardEvent] {
        switch tx {
        case .bitcoinHeaders(let hs): return [try relay(hs)]
        case .mint(let m): return [try mint(m, height: height)]
        case .sweep(let s): return [try sweep(s, height: height)]
        case .presignatures(let b): return [try register(b)]
        case .signatures(let results): return try record(results)
        case .misbehaviour(let m): return [try recordMisbehaviour(m)]
        case .mpcBroadcast(let m): return [try deliver(m, height: height)]
        case .shardKey(let k):
            guard k.epoch == epoch else { throw .wrongEpoch(expected: epoch, found: k.epoch) }
            guard shardKey == nil else { throw .shardKeyAlreadySet(epoch: epoch) }
            shardKey = k.key
            return [.shardKeyRegistered(k.key)]
        }
    }

    // MARK: Header relay

    /// Extends the relayed chain, or replaces its tail with a fork that starts inside the window and ends with more
    /// accumulated work (Bitcoin's own rule for the best chain). Every header passes Bitcoin's checks.
    private mutating func relay(_ new: [BlockHeader]) throws(ShardError) -> ShardEvent {
        guard let first = new.first else { throw .malformed("header relay with no headers") }
        guard let base = headerPosition[first.previousBlockHash] else { throw .headersDoNotAttach }
        let anchor = headers[base]
        let times = headers[max(0, base - 10)...base].map(\.header.time)
        let checkpoint = ChainCheckpoint(header: anchor.header, height: anchor.height, periodStartTime: anchor.periodStartTime,
                                         recentTimes: times, chainWork: anchor.chainWork, lastNormalBits: anchor.lastNormalBits)
        var verifier = HeaderChainVerifier(parameters: genesis.chainParameters, checkpoint: checkpoint)
        var added: [RelayedHeader] = []
        added.reserveCapacity(new.count)
        for h in new {
            do { try verifier.append(h) } catch { throw .headerRejected(error) }
            added.append(RelayedHeader(header: h, height: verifier.tipHeight, chainWork: verifier.chainWork,
                                       periodStartTime: verifier.periodStartTime, lastNormalBits: verifier.lastNormalBits))
        }
        let reorganised = base != headers.count - 1
        if reorganised {
            guard bitcoinTip.chainWork < verifier.chainWork else { throw .forkWithLessWork }
            for dropped in headers[(base + 1)...] { headerPosition[dropped.hash] = nil }
            headers.removeSubrange((base + 1)...)
        }
        headers += added
        if headers.count > ShardLimits.headerWindow {
            let excess = headers.count - ShardLimits.headerWindow
            for dropped in headers[..<excess] { headerPosition[dropped.hash] = nil }
            headers.removeFirst(excess)
        }
        headerPosition = Dictionary(uniqueKeysWithValues: headers.enumerated().map { ($1.hash, $0) })
        return .headersRelayed(tipHeight: bitcoinTip.height, reorganised: reorganised)
    }

    // MARK: Mint

    private mutating func mint(_ m: MintRequest, height: UInt64) throws(ShardError) -> ShardEvent {
        guard let shardKey else { throw .noShardKey }
        guard genesis.servedSHashes.contains(m.sHash) else { throw .selectorNotServed }
        guard let position = headerPosition[m.blockHash] else { throw .depositBlockUnknown }
        let block = headers[position]
        let confirmations = bitcoinTip.height - block.height + 1
        guard confirmations >= genesis.confirmationsRequired else {
            throw .insufficientConfirmations(required: genesis.confirmationsRequired, found: confirmations)
        }
        let tx: Transaction
        do throws(BitcoinError) {
            tx = try Transaction(parsing: m.depositTransaction)
            // BIP54: a 64-byte transaction could equally be an inner merkle node.
            guard tx.baseSize != 64 else { throw BitcoinError.sixtyFourByteTransaction }
            let proof = try MerkleProof(leaf: tx.txid, index: m.transactionIndex, siblings: m.siblings)
            try proof.verify(root: block.header.merkleRoot, transactionCount: Int(m.transactionCount))
        } catch { throw .depositRejected(error) }
        guard tx.outputs.indices.contains(Int(m.outputIndex)) else {
            throw .depositRejected(.depositOutputMismatch("output \(m.outputIndex) of \(tx.outputs.count)"))
        }
        let output = tx.outputs[Int(m.outputIndex)]
        let gHash = m.gHash
        let gateway: GatewayScript
        do { gateway = try GatewayScript(gHash: gHash, shardKey: shardKey, recovery: genesis.recovery) } catch { throw .depositRejected(error) }
        guard output.scriptPubKey == gateway.scriptPubKey else { throw .depositPaysAnotherScript }
        guard output.value > 0, output.value <= Bitcoin.Limits.moneyMax else { throw .depositRejected(.invalidAmount("deposit value \(output.value)")) }
        let txid = tx.txid
        let nHash = try! RenVMHashes.nHash(nonce: m.nonce, txid: txid, outputIndex: m.outputIndex)  // lengths checked by MintRequest
        guard !minted.contains(nHash) else { throw .alreadyMinted(nHash: Hex.encode(nHash)) }
        let outpoint = OutPoint(txid: txid, index: m.outputIndex)
        guard coins[outpoint] == nil else { throw .outpointAlreadyKnown }
        let digest = try! RenVMHashes.mintDigest(pHash: m.pHash, amount: output.value, sHash: m.sHash, to: m.to, nHash: nHash)
        let record = MintRecord(nHash: nHash, pHash: m.pHash, sHash: m.sHash, to: m.to, amount: output.value, deposit: outpoint)
        try addRequest(SigningRequest(id: nHash, digest: digest, purpose: .mint(record), committedAt: height))
        minted.insert(nHash)
        coins[outpoint] = CustodyCoin(outpoint: outpoint, value: output.value, gHash: gHash, spendable: true)
        return .mintAccepted(nHash: nHash, amount: output.value)
    }

    private mutating func addRequest(_ request: SigningRequest) throws(ShardError) {
        guard pendingCount < ShardLimits.pendingRequestsMax else {
            throw .oversize(field: "pending signing requests", count: pendingCount + 1, limit: ShardLimits.pendingRequestsMax)
        }
        guard requests[request.id] == nil else { throw .malformed("signing request id collision") }
        requests[request.id] = request
        unassigned.append(request.id)
        pendingCount += 1
    }

    // MARK: Sweep

    private mutating func sweep(_ s: SweepRequest, height: UInt64) throws(ShardError) -> ShardEvent {
        guard !s.coins.isEmpty else { throw .sweepEmpty }
        guard s.coins.count <= ShardLimits.sweepInputsMax else {
            throw .oversize(field: "sweep inputs", count: s.coins.count, limit: ShardLimits.sweepInputsMax)
        }
        guard zip(s.coins, s.coins.dropFirst()).allSatisfy({ outpointPrecedes($0, $1) }) else { throw .sweepInputsNotSorted }
        guard (genesis.sweepFeeRateMin...genesis.sweepFeeRateMax).contains(s.feeRate) else { throw .feeRateOutOfBounds(s.feeRate) }
        var spent: [CustodyCoin] = []
        for o in s.coins {
            guard let c = coins[o], c.spendable else { throw .coinNotSpendable("\(o.displayTxid):\(o.index)") }
            spent.append(c)
        }
        let spend = try buildSweep(coins: spent, feeRate: s.feeRate)
        let txid = spend.transaction.txid
        guard spend.transaction.outputs.count == 1 else { throw .malformed("sweep has \(spend.transaction.outputs.count) outputs") }
        guard sweeps[txid] == nil else { throw .malformed("sweep committed twice") }
        guard pendingCount + spent.count <= ShardLimits.pendingRequestsMax else {
            throw .oversize(field: "pending signing requests", count: pendingCount + spent.count, limit: ShardLimits.pendingRequestsMax)
        }
        let sighashes = spend.sighashes()
        for (i, digest) in sighashes.enumerated() {
            let id = Self.sweepInputRequestID(txid: txid, input: UInt32(i))
            try addRequest(SigningRequest(id: id, digest: digest, purpose: .sweepInput(sweepTxid: txid, inputIndex: UInt32(i)), committedAt: height))
        }
        for o in s.coins { coins[o] = nil }
        let output = OutPoint(txid: txid, index: 0)
        coins[output] = CustodyCoin(outpoint: output, value: spend.transaction.outputs[0].value, gHash: nil, spendable: false)
        sweeps[txid] = SweepRecord(txid: txid, coins: spent, feeRate: s.feeRate, committedAt: height)
        return .sweepAccepted(txid: txid, inputs: spent.count)
    }

    // MARK: Presignatures and signatures

    private mutating func register(_ batch: PresignatureBatch) throws(ShardError) -> ShardEvent {
        guard batch.epoch == epoch else { throw .wrongEpoch(expected: epoch, found: batch.epoch) }
        guard !batch.ids.isEmpty else { throw .malformed("empty presignature batch") }
        guard presignaturePool.count + batch.ids.count <= ShardLimits.presignaturePoolMax else {
            throw .oversize(field: "presignature pool", count: presignaturePool.count + batch.ids.count, limit: ShardLimits.presignaturePoolMax)
        }
        var fresh = Set<[UInt8]>()
        for id in batch.ids {
            guard id.count == 32 else { throw .malformed("presignature id of \(id.count) bytes") }
            guard !presignaturesSeen.contains(id), fresh.insert(id).inserted else { throw .duplicatePresignature }
        }
        presignaturesSeen.formUnion(fresh)
        presignaturePool += batch.ids
        return .presignaturesAdded(count: batch.ids.count)
    }

    /// Gives each waiting request, in commit order, the oldest unassigned presignature.
    private mutating func assignPresignatures() -> [ShardEvent] {
        let n = min(unassigned.count, presignaturePool.count)
        guard n > 0 else { return [] }
        var events: [ShardEvent] = []
        events.reserveCapacity(n)
        for (requestID, presignature) in zip(unassigned.prefix(n), presignaturePool.prefix(n)) {
            requests[requestID]?.presignature = presignature
            assignments[presignature] = requestID
            events.append(.signingAssigned(requestID: requestID, presignature: presignature))
        }
        unassigned.removeFirst(n)
        presignaturePool.removeFirst(n)
        return events
    }

    private mutating func record(_ results: [SignatureResult]) throws(ShardError) -> [ShardEvent] {
        guard !results.isEmpty else { throw .malformed("empty signature transaction") }
        guard let shardKey else { throw .noShardKey }
        // Check every result before recording any, so a refused transaction changes nothing.
        var seen = Set<[UInt8]>()
        for result in results {
            guard let request = requests[result.requestID] else { throw .unknownRequest }
            guard request.signature == nil, seen.insert(result.requestID).inserted else { throw .requestAlreadySigned }
            guard request.presignature != nil else { throw .presignatureNotAssigned }
            guard !result.signature.isHighS, shardKey.isValidSignature(result.signature, for: request.digest) else { throw .invalidSignature }
        }
        var events: [ShardEvent] = []
        for result in results {
            guard var request = requests[result.requestID], let presignature = request.presignature else { continue }
            request.signature = result.signature
            requests[result.requestID] = request
            assignments[presignature] = nil
            pendingCount -= 1
            events.append(.signed(requestID: result.requestID))
            if case .sweepInput(let txid, _) = request.purpose, let sweep = sweeps[txid], isFullySigned(sweep) {
                coins[OutPoint(txid: txid, index: 0)]?.spendable = true
                events.append(.sweepSigned(txid: txid))
            }
        }
        return events
    }

    private func isFullySigned(_ sweep: SweepRecord) -> Bool {
        sweep.coins.indices.allSatisfy { requests[Self.sweepInputRequestID(txid: sweep.txid, input: UInt32($0))]?.signature != nil }
    }

    // MARK: MPC broadcast

    private mutating func deliver(_ m: MPCBroadcast, height: UInt64) throws(ShardError) -> ShardEvent {
        guard m.epoch == epoch else { throw .wrongEpoch(expected: epoch, found: m.epoch) }
        guard Int(m.sender) < genesis.committee.count else { throw .notACommitteeMember(m.sender) }
        guard let signature = try? ECDSASignature(compact: m.signature), !signature.isHighS,
              genesis.committee[Int(m.sender)].isValidSignature(signature, for: m.signingDigest) else { throw .mpcSignatureInvalid }
        let slot = m.slot
        guard !mpcSlots.contains(slot) else { throw .mpcSlotTaken }
        guard mpcSlots.count < ShardLimits.mpcSlotsMax else {
            throw .oversize(field: "MPC broadcast slots", count: mpcSlots.count + 1, limit: ShardLimits.mpcSlotsMax)
        }
        mpcSlots.insert(slot)
        mpcSlotQueue.append((height, slot))
        return .mpcBroadcast(m)
    }

    private mutating func expireMPCSlots(at height: UInt64) {
        guard height > ShardLimits.mpcSlotRetentionBlocks else { return }
        let cutoff = height - ShardLimits.mpcSlotRetentionBlocks
        let expired = mpcSlotQueue.prefix { $0.height <= cutoff }.count
        guard expired > 0 else { return }
        for e in mpcSlotQueue.prefix(expired) { mpcSlots.remove(e.slot) }
        mpcSlotQueue.removeFirst(expired)
    }

    // MARK: Misbehaviour

    private mutating func recordMisbehaviour(_ m: Misbehaviour) throws(ShardError) -> ShardEvent {
        let validators = try genesis.validatorSet()
        do { try m.verify(validators: validators, scheduler: RoundRobinScheduler(), with: Secp256k1Verifier()) } catch { throw .evidenceRejected(error) }
        let kind: UInt8 = switch m {
        case .doublePropose: 1
        case .doublePrevote: 2
        case .doublePrecommit: 3
        case .outOfTurnPropose: 4
        }
        let offence = Offence(offender: m.offender.compressed, height: m.height, kind: kind)
        guard offences.insert(offence).inserted else { throw .evidenceAlreadyRecorded }
        return .misbehaviourRecorded(offender: offence.offender, height: offence.height)
    }
}
