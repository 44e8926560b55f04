/// What a verifier needs beside the evidence itself. Everything is bytes the caller obtained (PCS/PCCS, AMD KDS,
/// the guest's certificate table); the module never fetches anything.
public struct Collateral: Sendable {
    /// Intel TCB info, QE identity and CRLs. Without it an Intel quote is checked for authenticity only and its
    /// TCB status is `notEvaluated`.
    public var intel: IntelCollateral?
    /// Intel collateral verified once (`PreparedIntelCollateral`): used instead of `intel` when set, so that each
    /// quote costs one quote verification and no collateral re-parse.
    public var preparedIntel: PreparedIntelCollateral?
    /// Extra DER certificates: the SEV-SNP VCEK or VLEK (required for SNP), and optionally the ASK/ASVK.
    public var certificates: [[UInt8]]
    /// AMD KDS CRLs, DER (`GET /vcek/v1/{product}/crl`: issued and signed by the product's ARK). Every one whose
    /// issuer is the report's ARK is checked; CRLs of other products are ignored.
    public var amdCRLs: [[UInt8]]

    public init(intel: IntelCollateral? = nil, preparedIntel: PreparedIntelCollateral? = nil, certificates: [[UInt8]] = [],
                amdCRLs: [[UInt8]] = []) {
        self.intel = intel
        self.preparedIntel = preparedIntel
        self.certificates = certificates
        self.amdCRLs = amdCRLs
    }
}

/// The roots evidence must chain to. `production` holds the vendors' published roots.
public struct TrustAnchors: Sendable {
    /// DER of the Intel SGX Root CA.
    public var intelRootCA: [UInt8]
    /// DER certificates of AMD ARKs (self-signed) and the ASK/ASVKs they signed, any product line.
    public var amdCertificates: [[UInt8]]
    /// DER of the AWS Nitro Enclaves root.
    public var nitroRoot: [UInt8]

    public init(intelRootCA: [UInt8], amdCertificates: [[UInt8]], nitroRoot: [UInt8]) {
        self.intelRootCA = intelRootCA
        self.amdCertificates = amdCertificates
        self.nitroRoot = nitroRoot
    }

    public static let production: TrustAnchors = {
        // The built-in PEM text is a compile-time constant known to decode; a failure is a build defect.
        TrustAnchors(
            intelRootCA: try! PEM.certificates(PinnedRoots.intelSGXRootCA)[0],
            amdCertificates: try! PEM.certificates(PinnedRoots.amdMilanASKARK),
            nitroRoot: try! PEM.certificates(PinnedRoots.awsNitroRootG1)[0])
    }()
}
