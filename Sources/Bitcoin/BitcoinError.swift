/// Every way outside input to the Bitcoin module can be rejected. Associated values give context (offsets,
/// sizes, names), never secrets. Callers' bugs are preconditions instead, as in libsecp256k1's illegal-argument
/// callback.
public enum BitcoinError: Error, Equatable, Sendable {
    // MARK: Byte encoding
    /// The input ended before a field of `needed` bytes at `offset` could be read.
    case truncated(offset: Int, needed: Int)
    /// Bytes were left over after a complete structure had been parsed.
    case trailingBytes(count: Int)
    /// A CompactSize used more bytes than its value needs (Core rejects these: "non-canonical ReadCompactSize()").
    case nonCanonicalCompactSize(offset: Int)
    /// A length or count exceeded the named limit in `Limits`.
    case oversize(field: String, count: Int, limit: Int)

    // MARK: Scripts
    /// A push opcode claimed more bytes than the script has left.
    case scriptPushPastEnd(offset: Int)
    /// A push used a longer encoding than needed (BIP62 rule 3; policy-invalid in witness scripts).
    case nonMinimalPush(offset: Int)
    /// A script did not have the shape the caller asked to parse (e.g. not a gateway script).
    case unexpectedScriptShape(String)
    /// A multisig or gateway parameter is out of range (m, k, delay, key count).
    case invalidScriptParameter(String)

    // MARK: Addresses
    /// A bech32/bech32m string is malformed (case mix, characters, length, separator, checksum).
    case invalidBech32(String)
    /// A Base58Check string is malformed or its checksum does not match.
    case invalidBase58(String)
    /// The address is for another network than the one expected.
    case wrongNetwork(expected: String, found: String)
    /// The witness version or program length is not one BIP141/BIP350 allows.
    case invalidWitnessProgram(version: Int, length: Int)
    /// The version byte or human-readable part is not one we know.
    case unknownAddressPrefix(String)

    // MARK: Transactions
    /// The segwit marker was followed by a flag other than 1 (BIP144 reserves other values).
    case unknownSegwitFlag(UInt8)
    /// A segwit-serialized transaction had only empty witnesses (Core: "Superfluous witness record").
    case superfluousWitness
    /// An input index was outside the transaction's inputs.
    case inputIndexOutOfRange(index: Int, count: Int)
    /// A sighash type byte is not one of ALL/NONE/SINGLE with or without ANYONECANPAY.
    case invalidSighashType(UInt32)
    /// Inputs do not cover outputs plus fee, or an amount exceeds 21 million BTC.
    case invalidAmount(String)
    /// A signature handed to witness assembly is not a valid low-S signature for that input.
    case invalidSignature(input: Int)
    /// A key is not a valid compressed secp256k1 public key.
    case invalidPublicKey

    // MARK: SPV
    /// A header's hash is above the target its nBits encode, or nBits is negative, overflowing or above powLimit.
    case insufficientProofOfWork(height: Int)
    /// nBits is not what the network's difficulty rule requires at this height.
    case unexpectedDifficulty(height: Int, expected: UInt32, found: UInt32)
    /// A header's previous-block hash is not the hash of the header before it.
    case brokenChain(height: Int)
    /// A header's timestamp is not above the median of the previous eleven.
    case timestampTooEarly(height: Int)
    /// A merkle proof does not lead to the expected root.
    case merkleRootMismatch
    /// A merkle proof is malformed: wrong sibling count, index out of range, unused hashes or flag bits.
    case malformedMerkleProof(String)
    /// The transaction's non-witness serialization is 64 bytes, which an attacker can make look like an inner
    /// merkle node (BIP54, "64-byte transactions").
    case sixtyFourByteTransaction
    /// The proof does not reach the required depth (in blocks or in accumulated work).
    case insufficientConfirmations(required: String, found: String)
    /// The transaction in a deposit proof does not pay the expected script.
    case depositOutputMismatch(String)

    // MARK: RenVM
    /// A RenVM parameter has the wrong length (nonce, gHash, EVM address).
    case invalidRenVMParameter(String)
}
