import API
import Shard

/// The node as the RPC server sees it: submissions go through the same admission as transactions from peers
/// (checked against the state, queued, relayed), and queries read the committed state.
extension NodeRuntime: ShardService {
    public func submitTransaction(_ transaction: ShardTransaction) async throws(SubmissionError) -> [UInt8] {
        do {
            return try submit(transaction)
        } catch {
            switch error {
            case .duplicate: throw .duplicate
            case .full(let transactions, let bytes): throw .full(transactions: transactions, bytes: bytes)
            case .tooLarge(let bytes, let limit): throw .tooLarge(bytes: bytes, limit: limit)
            case .invalid(let reason): throw .invalid(reason)
            }
        }
    }

    public func mintStatus(nHash: [UInt8]) async -> MintStatus? {
        MintStatus(state: state, nHash: nHash)
    }

    public func status() async -> ServiceStatus {
        let s = state
        return ServiceStatus(height: height, shardKey: s.shardKey?.compressed, bitcoinTipHeight: s.bitcoinTip.height,
                             mempoolTransactions: mempoolCount)
    }
}
