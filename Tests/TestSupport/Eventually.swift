/// Waits until `condition` holds, checking every 10 ms for at most `timeout` of real time; returns whether it held.
///
/// For states reached by real IO (an HTTP answer, a commit, a process exiting) that a test cannot await
/// directly. It never decides a state was reached by time alone: the caller asserts the returned value.
public func eventually(
    timeout: Duration = .seconds(20), _ what: String, _ condition: () async throws -> Bool
) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return true }
        try await clock.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
