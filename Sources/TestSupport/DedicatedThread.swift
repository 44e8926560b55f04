import Foundation
import Testing

/// Runs each test of a suite (or one test) on a thread of its own instead of the cooperative pool.
///
/// Why: Swift Testing runs suites in parallel on the global cooperative pool, which is as wide as the machine has
/// cores (two on CI). A synchronous, CPU-heavy test body (a consensus swarm, an MPC run over many parties, a
/// reference check over 100,000 scalars) holds a pool thread until it ends, and with two of them the whole pool is
/// gone: every async test that waits for I/O (an HTTP handler, a mesh handshake) stalls for minutes and trips its
/// own deadlines. That happened on CI (a URLSession request timed out after 60 s while the swarm ran). On a
/// dedicated thread the heavy work still uses the CPU, but the kernel shares it with the pool, so waiting tests
/// keep moving. Task-locals (and so `#expect`'s attribution to the running test) carry over, because the body runs
/// under a task-executor preference rather than on a bare thread.
///
/// At most as many such tests run at once as the machine has cores (the others wait, without holding a thread), so
/// fifty parameterized cases do not become fifty runnable threads that crowd out the pool.
public struct DedicatedThreadTrait: TestTrait, SuiteTrait, TestScoping {
    /// CPU-bound tests take a turn at the gate (one per core); tests that mostly block waiting on a child process
    /// do not, or they would queue behind a ten-minute swarm for no gain.
    public let sharesCores: Bool

    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // A suite's own scope has nothing to run; each of its test cases gets a thread.
        guard testCase != nil else {
            try await function()
            return
        }
        if sharesCores { await DedicatedThreadGate.shared.enter() }
        let executor = DedicatedThreadExecutor(name: "test \(test.name)")
        let outcome: Result<Void, any Error>
        do {
            try await withTaskExecutorPreference(executor) { try await function() }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        executor.finish()
        if sharesCores { await DedicatedThreadGate.shared.leave() }
        try outcome.get()
    }
}

extension Trait where Self == DedicatedThreadTrait {
    /// Run each test case on its own thread, off the cooperative pool (see `DedicatedThreadTrait`).
    public static var dedicatedThread: Self { DedicatedThreadTrait(sharesCores: true) }

    /// Run each test case on its own thread because it blocks (waits on child processes with synchronous calls);
    /// not counted against the per-core limit of `.dedicatedThread`.
    public static var dedicatedThreadForBlockingWaits: Self { DedicatedThreadTrait(sharesCores: false) }
}

/// Admits at most `capacity` dedicated-thread tests at a time, first come first served.
actor DedicatedThreadGate {
    static let shared = DedicatedThreadGate(capacity: max(2, ProcessInfo.processInfo.activeProcessorCount))

    private let capacity: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int) { self.capacity = capacity }

    func enter() async {
        if running < capacity {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            running -= 1
        } else {
            // The slot passes straight to the next waiter.
            waiting.removeFirst().resume()
        }
    }
}

/// A task executor backed by one thread that runs the jobs given to it in order.
public final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finishing = false

    public init(name: String) {
        let thread = Thread { [self] in self.runJobs() }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once the jobs already given to it have run.
    public func finish() {
        condition.lock()
        finishing = true
        condition.signal()
        condition.unlock()
    }

    /// Whether the caller runs on a thread of some `DedicatedThreadExecutor` (thread names are no help: Linux keeps
    /// 15 bytes of them).
    public static var isCurrentThreadDedicated: Bool {
        Thread.current.threadDictionary[dedicatedThreadKey] as? Bool == true
    }

    private static let dedicatedThreadKey = "darknode.test-support.dedicated-thread"

    private func runJobs() {
        Thread.current.threadDictionary[Self.dedicatedThreadKey] = true
        while true {
            condition.lock()
            while jobs.isEmpty && !finishing { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
