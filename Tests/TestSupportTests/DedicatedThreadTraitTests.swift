import Foundation
import Testing
import TestSupport

/// The trait must really move a test body off the cooperative pool (or CPU-heavy suites starve the I/O tests again),
/// and `#expect` inside it must still belong to the running test.
@Suite(.dedicatedThread) struct DedicatedThreadTraitTests {
    @Test func aSynchronousBodyRunsOnItsOwnThread() {
        #expect(DedicatedThreadExecutor.isCurrentThreadDedicated)
        #expect(Test.current?.name.hasPrefix("aSynchronousBodyRunsOnItsOwnThread") == true)
    }

    @Test func anAsynchronousBodyStaysOnItsThreadAcrossSuspensions() async throws {
        #expect(onDedicatedThread())
        try await Task.sleep(for: .milliseconds(5))
        #expect(onDedicatedThread())
    }

    @Test(arguments: 0..<4) func parameterizedCasesEachGetAThread(index: Int) {
        #expect(DedicatedThreadExecutor.isCurrentThreadDedicated)
    }
}

/// Without the trait a test runs on the shared pool: the check above is not true of every thread.
@Suite struct WithoutTheTraitTests {
    @Test func aPlainTestRunsOnThePool() {
        #expect(!DedicatedThreadExecutor.isCurrentThreadDedicated)
    }
}

/// `Thread.current` is unavailable in async code; a synchronous function may read it.
private func onDedicatedThread() -> Bool { DedicatedThreadExecutor.isCurrentThreadDedicated }


@Suite(.dedicatedThreadForBlockingWaits) struct BlockingWaitsTraitTests {
    @Test func aBlockingTestAlsoGetsItsOwnThread() {
        #expect(DedicatedThreadExecutor.isCurrentThreadDedicated)
    }
}
