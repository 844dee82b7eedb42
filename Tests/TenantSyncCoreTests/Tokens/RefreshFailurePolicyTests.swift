import Testing
import TenantSyncCore

@Suite("Backoff and refresh failure decisions")
struct RefreshFailurePolicyTests {
    let backoff = RetryBackoff(base: .seconds(5), cap: .seconds(600), retryAfterCap: .seconds(3600))

    @Test("Backoff doubles per failure, the upper half is jitter")
    func exponentialWithJitter() {
        #expect(backoff.delay(failures: 1, retryAfter: nil, random: 0) == .seconds(2.5))
        #expect(backoff.delay(failures: 1, retryAfter: nil, random: 0.5) == .seconds(3.75))
        #expect(backoff.delay(failures: 2, retryAfter: nil, random: 0) == .seconds(5))
        #expect(backoff.delay(failures: 4, retryAfter: nil, random: 0) == .seconds(20))
        let nearlyFull = backoff.delay(failures: 4, retryAfter: nil, random: 0.999_999)
        #expect(nearlyFull > .seconds(39.99) && nearlyFull < .seconds(40))
    }

    @Test("Backoff is capped, even after very many failures")
    func capped() {
        #expect(backoff.delay(failures: 10, retryAfter: nil, random: 0) == .seconds(300))
        #expect(backoff.delay(failures: 10_000, retryAfter: nil, random: 0.999_999) <= .seconds(600))
    }

    @Test("Retry-After is honoured when longer than the backoff, and capped")
    func retryAfter() {
        #expect(backoff.delay(failures: 1, retryAfter: .seconds(120), random: 0) == .seconds(120))
        #expect(backoff.delay(failures: 8, retryAfter: .seconds(1), random: 0) == .seconds(300))
        #expect(backoff.delay(failures: 1, retryAfter: .seconds(86_400), random: 0) == .seconds(3600))
    }

    @Test("Permanent failures invalidate at once")
    func permanentInvalidates() {
        let policy = RefreshFailurePolicy(backoff: backoff, unrecognizedErrorLimit: 5)
        let failure = TokenFailure(httpStatus: 400, error: "invalid_grant", errorCodes: [70008])
        #expect(policy.decide(failure, failures: 1, random: 0) == .invalidate(.grantRevoked))
    }

    @Test("Transient failures retry forever")
    func transientRetries() {
        let policy = RefreshFailurePolicy(backoff: backoff, unrecognizedErrorLimit: 5)
        let failure = TokenFailure(httpStatus: 429, retryAfter: .seconds(30))
        #expect(policy.decide(failure, failures: 1, random: 0) == .retry(after: .seconds(30)))
        #expect(policy.decide(failure, failures: 1_000, random: 0) == .retry(after: .seconds(300)))
    }

    @Test("Unrecognized errors retry until the limit, then invalidate saying so")
    func unrecognizedBecomesPermanent() {
        let policy = RefreshFailurePolicy(backoff: backoff, unrecognizedErrorLimit: 3)
        let failure = TokenFailure(httpStatus: 400, error: "brand_new_error", errorCodes: [12_345])
        #expect(policy.decide(failure, failures: 1, random: 0) == .retry(after: .seconds(2.5)))
        #expect(policy.decide(failure, failures: 2, random: 0) == .retry(after: .seconds(5)))
        #expect(policy.decide(failure, failures: 3, random: 0) == .invalidate(.unrecognizedAfterRetries))
    }
}
