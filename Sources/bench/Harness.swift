import Foundation

/// A small benchmark harness: runs an operation in batches, takes the median batch, and prints ns/op.
/// Side-by-side figures (ours vs. a peer) are measured in the same process run, as BENCHMARKS.md requires.
struct Harness {
    struct Result {
        let name: String
        let nanosecondsPerOperation: Double
        var operationsPerSecond: Double { 1e9 / nanosecondsPerOperation }
    }

    var results: [Result] = []
    /// Batches per measurement; the median batch is reported.
    var batches = 11

    /// Times `operation` (which performs `iterations` operations per call to `body`) and records ns/op.
    @discardableResult
    mutating func measure(_ name: String, iterations: Int, _ body: () -> Void) -> Result {
        body()  // warm-up
        var samples: [Double] = []
        for _ in 0..<batches {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let end = DispatchTime.now().uptimeNanoseconds
            samples.append(Double(end - start) / Double(iterations))
        }
        samples.sort()
        let result = Result(name: name, nanosecondsPerOperation: samples[samples.count / 2])
        results.append(result)
        print(String(format: "%-58@ %14@/op %14.0f op/s", name as NSString, Harness.format(result.nanosecondsPerOperation) as NSString, result.operationsPerSecond))
        return result
    }

    /// Prints "ratio a/b" for two recorded results.
    func ratio(_ a: String, _ b: String) {
        guard let x = results.first(where: { $0.name == a }), let y = results.first(where: { $0.name == b }) else { return }
        print(String(format: "  ratio %@ / %@ = %.3f", a, b, x.nanosecondsPerOperation / y.nanosecondsPerOperation))
    }

    static func format(_ ns: Double) -> String {
        if ns < 1_000 { return String(format: "%.1f ns", ns) }
        if ns < 1_000_000 { return String(format: "%.2f µs", ns / 1_000) }
        if ns < 1_000_000_000 { return String(format: "%.2f ms", ns / 1_000_000) }
        return String(format: "%.2f s", ns / 1_000_000_000)
    }
}

/// Keeps the optimiser from deleting benchmarked work.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
