/// Named bounds for everything the MPC module stores or accepts, each with the reason for its value.
public enum Limits {
    /// Largest committee. RenVM shards are tens of nodes; 255 keeps indices in one byte on the wire and
    /// bounds the O(n²) work of a presignature.
    public static let partiesMax = 255
    /// Presignatures made by one session. A batch amortises rounds; 1,024 bounds one message at roughly
    /// 1,024 × (6t+2) points, well under the network's frame limit for t ≤ 10.
    public static let presignaturesPerBatchMax = 1_024
    /// Signer sets whose Lagrange coefficients are remembered (a committee uses few distinct sets).
    public static let lagrangeCacheSetsMax = 256
    /// Bytes of one encoded MPC message: bounds allocation before a length is trusted.
    public static let messageBytesMax = 4 << 20
    /// Used presignature ids remembered by one ledger before the epoch ends (presignatures die at the epoch).
    public static let usedPresignaturesMax = 1 << 20
}
