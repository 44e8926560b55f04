import Foundation
import Secp256k1
import Testing
import TestSupport

@testable import Attestation

/// Every stored sample parses to exactly the field values SOURCES.md lists.
@Suite(.dedicatedThread) struct ParserSampleTests {
    @Test func sgxQuoteV3Fields() throws {
        let quote = try IntelQuote(bytes: Samples.sgxQuote())
        #expect(quote.version == 3 && quote.attestationKeyType == 2 && quote.teeType == 0)
        #expect(quote.qeSVN == 10 && quote.pceSVN == 15)
        #expect(quote.qeVendorID.hexString == "939a7233f79c4ca9940a0db3957f0607")
        #expect(quote.userData.hexString == "3987622ee6968a54977c8626ef47123500000000")
        guard case .sgx(let body) = quote.body else { Issue.record("not SGX"); return }
        #expect(body.mrEnclave.hexString == "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb")
        #expect(body.mrSigner.hexString == "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6")
        #expect(body.isvProductID == 0 && body.isvSVN == 0)
        #expect(body.cpuSVN.hexString == "0b0b1a18ffff04000000000000000000")
        #expect(body.miscSelect == 0)
        #expect(body.attributes.hexString == "0500000000000000e700000000000000")
        #expect(!body.isDebug)
        #expect(body.reportData == Array("Hello, world!".utf8) + [UInt8](repeating: 0, count: 51))
        #expect(quote.signedBytes.count == 432)
        #expect(quote.qeAuthenticationData == Array(0..<32))
        #expect(quote.pckCertificateChainPEM.count == 3548 && quote.pckCertificateChainPEM.last == 0)
        #expect(quote.qeReport.mrSigner.hexString == "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff")
        #expect(quote.qeReport.mrEnclave.hexString == "96b347a64e5a045e27369c26e6dcda51fd7c850e9b3a3a79e718f43261dee1e4")
        #expect(quote.qeReport.isvProductID == 1 && quote.qeReport.isvSVN == 10)
        #expect(quote.trailingByteCount == 0)
        let chain = try PEM.certificates(bytes: quote.pckCertificateChainPEM)
        #expect(chain.count == 3)
        let pck = try PCKExtension(certificate: CertificateChain.certificate(chain[0], "pck"))
        #expect(pck.fmspc.hexString == "00a067110000" && pck.pceID.hexString == "0000" && pck.pceSVN == 13 && pck.sgxType == 0)
        #expect(pck.componentSVNs == [11, 11, 2, 2, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(try CertificateChain.certificate(chain[0], "pck").serialNumber.bytes).hexString == "81b77732b761e98eb9b963a4abd1e5b9bf5dd8d6")
    }

    @Test func sgxDebugQuoteFields() throws {
        let quote = try IntelQuote(bytes: Samples.sgxDebugQuote())
        guard case .sgx(let body) = quote.body else { Issue.record("not SGX"); return }
        #expect(quote.version == 3)
        #expect(body.mrEnclave.hexString == "1dd0df84810e53e26b2b167dfe0f97cc4364085fe0bd41d5e18a759c21d5c189")
        #expect(body.mrSigner.hexString == "d412a4f07ef83892a5915fb2ab584be31e186e5a4f95ab5f6950fd4eb8694d7b")
        #expect(body.isvProductID == 0 && body.isvSVN == 0)
        #expect(body.attributes.hexString == "07000000000000000700000000000000")
        #expect(body.isDebug)
        #expect(body.reportData.isAllZero)
        #expect(quote.qeReport.isvSVN == 7)
        #expect(quote.pckCertificateChainPEM.last != 0)
        let chain = try PEM.certificates(bytes: quote.pckCertificateChainPEM)
        let pck = try PCKExtension(certificate: CertificateChain.certificate(chain[0], "pck"))
        #expect(pck.fmspc.hexString == "00906ed50000" && pck.pceSVN == 11)
    }

    @Test func tdxQuoteV4Fields() throws {
        let bytes = try Samples.tdxQuote()
        let quote = try IntelQuote(bytes: bytes)
        #expect(quote.version == 4 && quote.attestationKeyType == 2 && quote.teeType == 0x81 && quote.isTDX)
        #expect(quote.trailingByteCount == 70 && bytes.count - 70 == 4936)
        #expect(quote.signedBytes.count == 632)
        guard case .td(let td) = quote.body else { Issue.record("not TDX"); return }
        #expect(td.teeTCBSVN.hexString == "06010300000000000000000000000000")
        #expect(td.mrSeam.hexString == "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1")
        #expect(td.mrSignerSeam.isAllZero && td.seamAttributes.isAllZero)
        #expect(td.tdAttributes.hexString == "0000001000000000" && !td.isDebug)
        #expect(td.xfam.hexString == "e702060000000000")
        #expect(td.mrTD.hexString == "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7")
        #expect(td.mrConfigID.isAllZero && td.mrOwner.isAllZero && td.mrOwnerConfig.isAllZero)
        #expect(td.rtmrs[0].hexString == "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0")
        #expect(td.rtmrs[1].hexString == "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378")
        #expect(td.rtmrs[2].hexString == "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132")
        #expect(td.rtmrs[3].isAllZero)
        #expect(td.reportData.hexString == "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20")
        #expect(td.teeTCBSVN2 == nil)
        #expect(quote.qeReport.mrSigner.hexString == "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5")
        #expect(quote.qeReport.isvProductID == 2 && quote.qeReport.isvSVN == 6)
        let chain = try PEM.certificates(bytes: quote.pckCertificateChainPEM)
        let pck = try PCKExtension(certificate: CertificateChain.certificate(chain[0], "pck"))
        #expect(pck.fmspc.hexString == "b0c06f000000" && pck.pceSVN == 11 && pck.sgxType == 1)
        #expect(pck.componentSVNs == [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func snpReportFields() throws {
        let report = try SNPReport(bytes: Samples.snpReport())
        #expect(report.version == 2 && report.guestSVN == 0 && report.policy == 0x30000 && !report.isDebug)
        #expect(report.vmpl == 0 && report.signatureAlgorithm == 1 && report.signerInfo == 0 && report.signingKey == .vcek)
        #expect(report.platformInfo == 1)
        #expect(report.reportData.hexString == "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd")
        #expect(report.measurement.hexString == "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f")
        #expect(report.chipID.hexString == "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6")
        #expect(report.reportedTCB.raw == [3, 0, 0, 0, 0, 0, 8, 0x73])
        #expect(report.reportedTCB.bootloader == 3 && report.reportedTCB.tee == 0 && report.reportedTCB.snp == 8 && report.reportedTCB.microcode == 115)
        #expect(report.currentMajor == 1 && report.currentMinor == 52 && report.currentBuild == 4)
        #expect(report.committedMajor == 1 && report.committedMinor == 52 && report.committedBuild == 4)
        let hexFile = String(decoding: try Samples.bytes("amd-sev-snp/milan_vcek_report_v2.hex"), as: UTF8.self)
        #expect(try SNPReport(bytes: Hex.decode(hexFile.trimmingCharacters(in: .whitespacesAndNewlines))!) == report)
    }

    @Test func snpDebugReportFields() throws {
        let report = try SNPReport(bytes: Samples.snpDebugReport())
        #expect(report.version == 2 && report.policy == 0xb0000 && report.isDebug && report.vmpl == 0)
        #expect(report.reportData == [1, 2, 3, 4, 5] + [UInt8](repeating: 0, count: 59))
        #expect(report.measurement.hexString == "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01")
        #expect(report.chipID.hexString == "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d")
        #expect(report.reportedTCB.raw == [2, 0, 0, 0, 0, 0, 5, 0x44])
    }

    @Test func nitroDocumentFields() throws {
        let bytes = try Samples.nitro()
        #expect(bytes.count == 7539 && bytes[0] == 0x84)
        let doc = try NitroDocument(bytes: bytes)
        #expect(doc.protectedHeader == [0xa1, 0x01, 0x38, 0x22] && doc.signature.count == 96)
        #expect(doc.moduleID == "i-0a22e5c5f24d22174-enc0191cceb4289903f" && doc.digest == "SHA384")
        #expect(doc.timestamp == 1_725_719_859_545)
        #expect(doc.pcrs.count == 16 && doc.pcrs.values.allSatisfy { $0.count == 48 })
        #expect(doc.pcrs[0]?.hexString == "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a")
        #expect(doc.pcrs[1]?.hexString == "0343b056cd8485ca7890ddd833476d78460aed2aa161548e4e26bedf321726696257d623e8805f3f605946b3d8b0c6aa")
        #expect(doc.pcrs[2]?.hexString == "d5dcbdea0aa39c802f9d55ced2ea6e4d74ecec5f08fe40c508882639c9090642669106a062a3e24ee2805a3024b9b75c")
        #expect(doc.pcrs[3]?.isAllZero == true)
        #expect(doc.pcrs[4]?.hexString == "45706d7b621e4620a332e147a5ddb000b049f73d47d3e61f6b03d2069152d4df6a4a786ad1c10102b955799a9dc96b44")
        #expect(doc.certificate.count == 639 && doc.caBundle.count == 4)
        #expect(doc.caBundle[0] == TrustAnchors.production.nitroRoot)
        let ones = [UInt8](repeating: 1, count: 1024)
        #expect(doc.publicKey == ones && doc.userData == ones && doc.nonce == ones)
        #expect(!doc.isDebug)
    }

    @Test func nitroDebugDocumentFields() throws {
        let doc = try NitroDocument(bytes: Samples.nitro("nitro_attestation_debug.b64"))
        #expect(doc.moduleID == "i-0a22e5c5f24d22174-enc0191ccebaf8feaba" && doc.timestamp == 1_725_719_886_508)
        #expect(doc.pcrs[0]?.isAllZero == true && doc.pcrs[1]?.isAllZero == true && doc.pcrs[2]?.isAllZero == true)
        #expect(doc.pcrs[4]?.hexString == "45706d7b621e4620a332e147a5ddb000b049f73d47d3e61f6b03d2069152d4df6a4a786ad1c10102b955799a9dc96b44")
        #expect(doc.isDebug)
    }

    @Test func autoDetectionPicksTheRightParser() throws {
        #expect(try Evidence.detectPlatform(Samples.sgxQuote()) == .sgx)
        #expect(try Evidence.detectPlatform(Samples.tdxQuote()) == .tdx)
        #expect(try Evidence.detectPlatform(Samples.snpReport()) == .sevSNP)
        #expect(try Evidence.detectPlatform(Samples.nitro()) == .nitro)
        let sim = try SimulatedEvidence.sign(measurement: Array(repeating: 7, count: 32), reportData: Array(repeating: 9, count: 64), platformKey: PrivateKey(bytes: Array(repeating: 1, count: 32)))
        #expect(try Evidence.detectPlatform(sim.encoded) == .simulated)
        #expect(throws: EvidenceParseError.unrecognisedFormat) { try Evidence.detectPlatform([1, 2, 3, 4, 5, 6, 7, 8]) }
        #expect(throws: EvidenceParseError.self) { try Evidence.parse(Samples.tdxQuote(), platform: .sgx) }
    }
}
