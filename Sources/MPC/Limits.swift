/// Named bounds for everything the MPC module stores or accepts, each with the reason for its value.
public enum Limits {
    /// Largest committee. RenVM shards are tens of nodes; 255 keeps indices in one byte on the wire and
    /// bounds the O(n²) work of a presignature.
    public static let partiesMax = 255
    /// Presignatures made by one session. A batch amortises rounds; a dealing carries, per presignature,
    /// 6t + 4 commitment points (65 bytes each on the wire) and n encrypted share vectors of 256 bytes, so 256
    /// keeps it near 3.1 MB at n = 31 (`PresignSession` also refuses a batch whose dealing would exceed
    /// `messageBytesMax`).
    public static let presignaturesPerBatchMax = 256
    /// Signer sets whose Lagrange coefficients are remembered (a committee uses few distinct sets).
    public static let lagrangeCacheSetsMax = 256
    /// Bytes of one encoded MPC message: bounds allocation before a length is trusted.
    public static let messageBytesMax = 4 << 20
    /// Used presignature ids remembered by one ledger before the epoch ends (presignatures die at the epoch).
    public static let usedPresignaturesMax = 1 << 20
}
