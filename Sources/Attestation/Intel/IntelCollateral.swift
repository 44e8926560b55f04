import Foundation
import Secp256k1

/// Intel DCAP collateral for one quote: the PCS/PCCS responses, kept as the exact bytes received because the
/// signatures cover the JSON text as sent.
///
/// `init(json:)` reads the format Phala's dcap-qvl uses (`get_collateral` output), which gathers every piece in
/// one object: `pck_crl_issuer_chain`, `root_ca_crl` (hex DER), `pck_crl` (hex DER), `tcb_info_issuer_chain`,
/// `tcb_info` (JSON text), `tcb_info_signature` (hex r‖s), `qe_identity_issuer_chain`, `qe_identity`,
/// `qe_identity_signature`.
public struct IntelCollateral: Sendable, Hashable {
    public var pckCRLIssuerChainPEM: String
    public var rootCACRL: [UInt8]
    public var pckCRL: [UInt8]
    public var tcbInfoIssuerChainPEM: String
    /// The `tcbInfo` object's JSON text exactly as signed.
    public var tcbInfoJSON: [UInt8]
    /// ECDSA P-256 r‖s over `tcbInfoJSON`.
    public var tcbInfoSignature: [UInt8]
    public var qeIdentityIssuerChainPEM: String
    /// The `enclaveIdentity` object's JSON text exactly as signed.
    public var qeIdentityJSON: [UInt8]
    public var qeIdentitySignature: [UInt8]

    public init(pckCRLIssuerChainPEM: String, rootCACRL: [UInt8], pckCRL: [UInt8], tcbInfoIssuerChainPEM: String,
                tcbInfoJSON: [UInt8], tcbInfoSignature: [UInt8], qeIdentityIssuerChainPEM: String,
                qeIdentityJSON: [UInt8], qeIdentitySignature: [UInt8]) {
        self.pckCRLIssuerChainPEM = pckCRLIssuerChainPEM
        self.rootCACRL = rootCACRL
        self.pckCRL = pckCRL
        self.tcbInfoIssuerChainPEM = tcbInfoIssuerChainPEM
        self.tcbInfoJSON = tcbInfoJSON
        self.tcbInfoSignature = tcbInfoSignature
        self.qeIdentityIssuerChainPEM = qeIdentityIssuerChainPEM
        self.qeIdentityJSON = qeIdentityJSON
        self.qeIdentitySignature = qeIdentitySignature
    }

    /// Parses dcap-qvl's collateral JSON.
    public init(json: [UInt8]) throws(AttestationError) {
        guard json.count <= 1 << 20 else { throw .collateralInvalid(which: "collateral", detail: "larger than 1 MiB") }
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else {
                throw AttestationError.collateralInvalid(which: "collateral", detail: "not a JSON object")
            }
            object = o
        } catch let e as AttestationError {
            throw e
        } catch {
            throw .collateralInvalid(which: "collateral", detail: "not JSON: \(error.localizedDescription)")
        }
        func string(_ key: String) throws(AttestationError) -> String {
            guard let s = object[key] as? String else { throw .collateralMissing(key) }
            return s
        }
        func hex(_ key: String) throws(AttestationError) -> [UInt8] {
            guard let b = Hex.decode(try string(key)) else { throw .collateralInvalid(which: key, detail: "not hex") }
            return b
        }
        self.init(
            pckCRLIssuerChainPEM: try string("pck_crl_issuer_chain"),
            rootCACRL: try hex("root_ca_crl"),
            pckCRL: try hex("pck_crl"),
            tcbInfoIssuerChainPEM: try string("tcb_info_issuer_chain"),
            tcbInfoJSON: Array(try string("tcb_info").utf8),
            tcbInfoSignature: try hex("tcb_info_signature"),
            qeIdentityIssuerChainPEM: try string("qe_identity_issuer_chain"),
            qeIdentityJSON: Array(try string("qe_identity").utf8),
            qeIdentitySignature: try hex("qe_identity_signature"))
    }
}
