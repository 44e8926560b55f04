import Foundation
import Testing

/// Polls `condition` until it holds or `seconds` pass, sleeping between polls so no thread of the shared
/// cooperative pool is blocked; a miss is recorded at the caller, naming what was awaited and the bound.
public func waitFor(
    _ what: String, seconds: Double, pollEvery interval: Duration = .milliseconds(100),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    if await condition() { return true }
    Issue.record("gave up after \(Int(seconds)) s waiting for: \(what)", sourceLocation: sourceLocation)
    return false
}
