import Testing
import TenantSyncCore

@Suite("Token error classification")
struct TokenErrorClassifierTests {
    /// Every AADSTS code of the contract, with the `error` field Microsoft sends with it and the expected class.
    static let codeTable: [(code: Int, error: String, expected: TokenErrorClass)] = [
        (50033, "temporarily_unavailable", .transient),
        (90006, "server_error", .transient),
        (90024, "temporarily_unavailable", .transient),
        (90033, "temporarily_unavailable", .transient),
        (90090, "temporarily_unavailable", .transient),
        (50087, "server_error", .transient),
        (70008, "invalid_grant", .permanent(.grantRevoked)),
        (700082, "invalid_grant", .permanent(.grantRevoked)),
        (50173, "invalid_grant", .permanent(.grantRevoked)),
        (70043, "invalid_grant", .permanent(.grantRevoked)),
        (54005, "invalid_grant", .permanent(.grantRevoked)),
        (50076, "interaction_required", .permanent(.interactionRequired)),
        (50079, "interaction_required", .permanent(.interactionRequired)),
        (65001, "invalid_grant", .permanent(.consentMissing)),
        (90094, "invalid_grant", .permanent(.consentMissing)),
        (650056, "invalid_client", .permanent(.consentMissing)),
        (650057, "invalid_client", .permanent(.consentMissing)),
        (7000215, "invalid_client", .permanent(.clientCredentialsInvalid)),
        (7000222, "invalid_client", .permanent(.clientCredentialsInvalid)),
        (700016, "unauthorized_client", .permanent(.applicationNotAuthorized)),
        (7000112, "unauthorized_client", .permanent(.applicationNotAuthorized)),
        (500011, "invalid_resource", .permanent(.tenantOrResourceNotFound)),
        (90002, "invalid_request", .permanent(.tenantOrResourceNotFound)),
        // Client assertions (certificate credentials).
        (700027, "invalid_client", .permanent(.clientCredentialsInvalid)),
        (700024, "invalid_client", .permanent(.clientCredentialsInvalid)),
        (700021, "invalid_client", .permanent(.clientCredentialsInvalid)),
        (700023, "invalid_client", .permanent(.clientCredentialsInvalid)),
    ]

    @Test("Every contract AADSTS code is classified as the contract says", arguments: codeTable)
    func classifiesContractCode(code: Int, error: String, expected: TokenErrorClass) {
        let failure = TokenFailure(httpStatus: 400, error: error, errorCodes: [code], traceID: "t", correlationID: "c")
        #expect(TokenErrorClassifier.classify(failure) == expected, "AADSTS\(code) with \(error)")
    }

    @Test("The code decides even when the error field is misleading", arguments: codeTable)
    func codeWinsOverErrorField(code: Int, error: String, expected: TokenErrorClass) {
        // An unrelated error field must not change what the code means.
        let failure = TokenFailure(httpStatus: 400, error: "invalid_request", errorCodes: [code])
        #expect(TokenErrorClassifier.classify(failure) == expected, "AADSTS\(code)")
    }

    @Test("The tables list exactly the contract's codes")
    func tablesMatchContract() {
        let contract = Set(Self.codeTable.map(\.code))
        #expect(TokenErrorClassifier.transientCodes.union(TokenErrorClassifier.permanentCodes.keys) == contract)
        #expect(TokenErrorClassifier.transientCodes.isDisjoint(with: TokenErrorClassifier.permanentCodes.keys))
    }

    @Test("HTTP 429 and every 5xx are transient", arguments: [429, 500, 502, 503, 504, 599])
    func throttlingAndServerErrorsAreTransient(status: Int) {
        #expect(TokenErrorClassifier.classify(TokenFailure(httpStatus: status)) == .transient)
        #expect(TokenErrorClassifier.classify(TokenFailure(httpStatus: status, error: "invalid_request")) == .transient)
    }

    @Test("Timeouts, broken connections and garbled answers are transient", arguments: [
        TokenFailure.Transport.timeout, .connectionFailed, .malformedResponse,
    ])
    func transportFailuresAreTransient(transport: TokenFailure.Transport) {
        #expect(TokenErrorClassifier.classify(TokenFailure(transport: transport)) == .transient)
    }

    @Test("Error fields without a known code", arguments: [
        ("temporarily_unavailable", TokenErrorClass.transient),
        ("invalid_grant", .permanent(.grantRevoked)),
        ("interaction_required", .permanent(.interactionRequired)),
        ("consent_required", .permanent(.consentMissing)),
        ("invalid_client", .permanent(.clientCredentialsInvalid)),
        ("unauthorized_client", .permanent(.applicationNotAuthorized)),
        ("invalid_request", .unrecognized),
        ("something_new", .unrecognized),
    ])
    func errorFieldAlone(error: String, expected: TokenErrorClass) {
        #expect(TokenErrorClassifier.classify(TokenFailure(httpStatus: 400, error: error, errorCodes: [99_999_999])) == expected)
        #expect(TokenErrorClassifier.classify(TokenFailure(httpStatus: 400, error: error)) == expected)
    }

    @Test("A 401 with no error field is not recognized")
    func bareUnauthorizedIsUnrecognized() {
        #expect(TokenErrorClassifier.classify(TokenFailure(httpStatus: 401)) == .unrecognized)
    }

    @Test("The summary names status, error and codes but nothing secret")
    func summary() {
        let failure = TokenFailure(httpStatus: 400, error: "invalid_grant", errorCodes: [70008], suberror: "bad_token", traceID: "trace-1")
        #expect(failure.summary == "HTTP 400 invalid_grant AADSTS70008 suberror bad_token")
        #expect(failure.aadstsCode == 70008)
    }
}
