import Foundation
import Secp256k1

/// `bench ct`: a dudect-style timing-leak measurement (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant
/// time?", 2017) of the operations that take secret scalars. Two input classes, a fixed secret (the scalar 1) and
/// uniformly random secrets, are interleaved at random; each measurement times a small batch of calls on one input;
/// Welch's t-statistic compares the classes' timings, on all measurements and after cropping at several pooled
/// percentiles (to shed interrupts). |t| above 4.5 is evidence that timing depends on the secret; below it, no
/// dependence was detected at this sample size, which is not a proof of constant time. `Point.timesPublic` (a
/// variable-time wNAF multiplication) is the positive control: the method must flag it.
///
/// `CT_MEASUREMENTS` scales the number of measurements (default 1.0 = the counts below).
func benchConstantTime(_ harness: inout Harness) {
    let scale = Double(ProcessInfo.processInfo.environment["CT_MEASUREMENTS"] ?? "") ?? 1.0
    var rng = SystemRandomNumberGenerator()
    let publicScalar = Scalar.randomNonZero(using: &rng)
    let publicPoint = Point.generator.timesPublic(Scalar.randomNonZero(using: &rng))
    let digest = (0..<32).map { _ in UInt8.random(in: 0...255) }
    print("dudect-style timing classes: fixed secret (1) vs uniformly random secrets; |t| > 4.5 flags a dependence")

    dudect("Scalar × Scalar (secret × public)", measurements: Int(200_000 * scale), batch: 32) { fixed, rng in
        fixed ? Scalar.one : Scalar.randomNonZero(using: &rng)
    } run: { blackHole($0 * publicScalar) }

    dudect("Scalar.inverse (Fermat)", measurements: Int(20_000 * scale), batch: 4) { fixed, rng in
        fixed ? Scalar.one : Scalar.randomNonZero(using: &rng)
    } run: { blackHole(try? $0.inverse()) }

    dudect("Point.timesSecret (libsecp256k1 ecmult_const)", measurements: Int(10_000 * scale), batch: 2) { fixed, rng in
        fixed ? Scalar.one : Scalar.randomNonZero(using: &rng)
    } run: { blackHole(publicPoint.timesSecret($0)) }

    dudect("ECDSA sign, secret key (libsecp256k1, RFC 6979)", measurements: Int(10_000 * scale), batch: 2) { fixed, rng in
        try! PrivateKey(scalar: fixed ? Scalar.one : Scalar.randomNonZero(using: &rng))
    } run: { blackHole(try? $0.signature(for: digest)) }

    dudect("control: Point.timesPublic (wNAF, variable time)", measurements: Int(10_000 * scale), batch: 2) { fixed, rng in
        fixed ? Scalar.one : Scalar.randomNonZero(using: &rng)
    } run: { blackHole(publicPoint.timesPublic($0)) }
}

/// Welch's t-test accumulator (online mean and variance per class).
struct WelchT {
    var n = [0.0, 0.0], mean = [0.0, 0.0], m2 = [0.0, 0.0]

    mutating func push(_ cls: Int, _ x: Double) {
        n[cls] += 1
        let delta = x - mean[cls]
        mean[cls] += delta / n[cls]
        m2[cls] += delta * (x - mean[cls])
    }

    var t: Double {
        guard n[0] > 1, n[1] > 1 else { return 0 }
        let v0 = m2[0] / (n[0] - 1), v1 = m2[1] / (n[1] - 1)
        let se = (v0 / n[0] + v1 / n[1]).squareRoot()
        return se == 0 ? 0 : (mean[0] - mean[1]) / se
    }
}

func dudect<Input>(_ name: String, measurements: Int, batch: Int, input: (Bool, inout SystemRandomNumberGenerator) -> Input,
                   run: (Input) -> Void) {
    var rng = SystemRandomNumberGenerator()
    let classes = (0..<measurements).map { _ in Bool.random(using: &rng) }
    let inputs = classes.map { input($0, &rng) }
    for i in 0..<min(1_000, measurements) { run(inputs[i]) }  // warm-up
    var times = [Double](repeating: 0, count: measurements)
    for i in 0..<measurements {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<batch { run(inputs[i]) }
        times[i] = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(batch)
    }
    let sorted = times.sorted()
    let crops: [(String, Double)] = [("all", .infinity)] + [0.5, 0.75, 0.9, 0.99].map { p in
        ("p\(Int(p * 100))", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))])
    }
    var report: [String] = []
    var worst = 0.0
    for (label, limit) in crops {
        var test = WelchT()
        for i in 0..<measurements where times[i] <= limit { test.push(classes[i] ? 0 : 1, times[i]) }
        report.append(String(format: "%@ %+.2f", label, test.t))
        worst = max(worst, abs(test.t))
    }
    let verdict = worst > 4.5 ? "TIMING DEPENDS ON THE SECRET" : "no dependence detected"
    print(String(format: "%-52@ n=%d, median fixed %@ / random %@; t: %@; max |t| %.2f: %@", name as NSString, measurements,
                 Harness.format(median(times, classes, true)) as NSString, Harness.format(median(times, classes, false)) as NSString,
                 report.joined(separator: ", ") as NSString, worst, verdict as NSString))
}

func median(_ times: [Double], _ classes: [Bool], _ cls: Bool) -> Double {
    let picked = zip(times, classes).filter { $0.1 == cls }.map(\.0).sorted()
    return picked.isEmpty ? 0 : picked[picked.count / 2]
}
