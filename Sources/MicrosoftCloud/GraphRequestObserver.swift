/// Told about every HTTP request a ``GraphClient`` sends, for the daemon's metrics.
///
/// Called once per attempt (a retried request counts each time), after the answer's headers
/// and body arrived; it must return at once.
public protocol GraphRequestObserver: Sendable {
    /// - Parameters:
    ///   - status: the HTTP status, `nil` when no answer came (timeout, connection failure).
    ///   - resourceUnits: what Graph charged (`x-ms-resource-unit`), else the documented estimate; 0 without an answer.
    ///   - duration: from sending the request (after pacing) to the end of the body.
    func graphRequestFinished(status: Int?, resourceUnits: Int, duration: Duration)
}
