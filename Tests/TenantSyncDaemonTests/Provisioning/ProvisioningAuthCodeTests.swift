import ControlPlane
import Foundation
import M365Emulator
import MicrosoftCloud
import Synchronization
import Testing
import TestSupport

/// the authorization-code flow with PKCE whose redirect lands on the daemon's loopback listener.
///
/// The test plays the administrator's browser: it opens the authorize URL the CLI prints, the emulator
/// (approving or declining as the tenant's `interactiveConsent` says) redirects to the listener, and the
/// test follows that redirect — or alters it, as an attacker or a wrong link would.
extension ProvisioningTests {
    @Test func authCodeIsTheDefaultFlowAndItsRedirectLandsOnTheDaemonsLoopbackListener() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.ctlWithBrowser(["provision", "exchange-online", "--tenant", h.tenant.domain, "--scope", "all"]) { _, url in
                let (authorize, listener) = try await Browser.signIn(url)
                #expect(authorize.status == 302)
                #expect(Browser.parameter("code", in: authorize.location ?? "") != nil, "no code in \(authorize.location ?? "")")
                #expect(listener.status == 200, "\(listener.body)")
                #expect(listener.body.contains("Signed in"), "\(listener.body)")
            }
            #expect(run.status == 0, "\(run.all)")
            #expect(run.stdout.contains("Exchange Online protected."), "\(run.stdout)")
            #expect(!run.all.contains("enter the code"), "no device code was used")

            // Two consents in the provisioning order (EWS, then Graph), each with its own PKCE challenge, state and listener on 127.0.0.1.
            let urls = ProvisioningHarness.authorizeURLs(in: run.stdout)
            try #require(urls.count == 2, "\(run.stdout)")
            #expect(Browser.parameter("scope", in: urls[0])?.contains("outlook") == true, "EWS first: \(urls[0])")
            #expect(Browser.parameter("scope", in: urls[1])?.contains("/.default") == true)
            for url in urls {
                #expect(url.hasPrefix("\(h.baseURL)/\(h.tenant.id)/oauth2/v2.0/authorize?"), "\(url)")
                #expect(Browser.parameter("response_type", in: url) == "code")
                #expect(Browser.parameter("code_challenge_method", in: url) == "S256")
                #expect(Browser.parameter("code_challenge", in: url)?.count == 43)
                #expect(Browser.parameter("redirect_uri", in: url)?.hasPrefix("http://127.0.0.1:") == true)
            }
            #expect(Browser.parameter("state", in: urls[0]) != Browser.parameter("state", in: urls[1]))
            #expect(Browser.parameter("code_challenge", in: urls[0]) != Browser.parameter("code_challenge", in: urls[1]))

            // The listeners exist only while a consent is pending: both are closed now.
            for url in urls {
                let redirectURI = try #require(Browser.parameter("redirect_uri", in: url))
                let port = try #require(URLComponents(string: redirectURI)?.port)
                #expect(!acceptsConnections(port: port), "the listener on port \(port) is still open")
            }
            let account = try #require(try await h.account("exchange-online"))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .active)
            #expect(detail.grants.map(\.name).sorted() == ["ews", "graph"])
            #expect(detail.grants.allSatisfy { $0.state == .valid && $0.token != nil }, "\(detail.grants)")

            // Renew uses the same default: two new sign-ins replace both grants' tokens. Microsoft (the emulator) saw
            // two more codes redeemed, and the daemon stored what it got: each grant's token-set generation moved by one.
            let generationsBefore = try await h.tokenGenerations(accountID: account.id)
            #expect(generationsBefore.keys.sorted() == ["ews", "graph"], "\(generationsBefore)")
            let codesBefore = try h.emulator.counters(tenant: h.tenant.id)["token.authorization_code"] ?? 0
            let renewed = try await h.ctlWithBrowser(["renew", "\(account.id)"]) { _, url in _ = try await Browser.signIn(url) }
            #expect(renewed.status == 0, "\(renewed.all)")
            #expect(ProvisioningHarness.authorizeURLs(in: renewed.stdout).count == 2, "\(renewed.stdout)")
            let codesAfter = try h.emulator.counters(tenant: h.tenant.id)["token.authorization_code"] ?? 0
            #expect(codesAfter - codesBefore == 2, "authorization codes redeemed by renew: \(codesAfter - codesBefore)")
            let generationsAfter = try await h.tokenGenerations(accountID: account.id)
            for (grant, generation) in generationsBefore {
                #expect(generationsAfter[grant] == generation + 1, "grant \(grant): stored generation \(generation) before renew, \(String(describing: generationsAfter[grant])) after")
            }
        }
    }

    @Test func authCodeDeclinedByTheAdministratorFailsTheStepWithAClearMessageAndARetryResumesIt() async throws {
        try await ProvisioningHarness.with { h in
            _ = try h.emulator.updateSettings(tenant: h.tenant.id, TenantSettingsPatch(interactiveConsent: .decline))
            let declined = try await h.ctlWithBrowser(["provision", "exchange-online", "--tenant", h.tenant.domain, "--scope", "all"]) { _, url in
                let (authorize, listener) = try await Browser.signIn(url)
                #expect(Browser.parameter("error", in: authorize.location ?? "") == "access_denied")
                #expect(listener.body.contains("access_denied"), "\(listener.body)")
            }
            #expect(declined.status != 0)
            #expect(declined.all.contains("The administrator declined the consent (access_denied: AADSTS65004"), "\(declined.all)")
            let account = try #require(try await h.account("exchange-online"))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .provisioning && detail.provisioningStep == "consent-ews")
            #expect(detail.provisioningError?.contains("declined") == true)

            _ = try h.emulator.updateSettings(tenant: h.tenant.id, TenantSettingsPatch(interactiveConsent: .approve))
            let retried = try await h.ctlWithBrowser(["provision", "exchange-online", "--tenant", h.tenant.domain, "--scope", "all"]) { _, url in
                _ = try await Browser.signIn(url)
            }
            #expect(retried.status == 0, "\(retried.all)")
            #expect(try await h.detail(account.id).state == .active)
        }
    }

    @Test func authCodeRedirectsWithAWrongStateAreRefusedAndTheAdministratorsRedirectStillCompletesTheConsent() async throws {
        try await ProvisioningHarness.with { h in
            let arguments = ["provision", "sharepoint-online", "--tenant", h.tenant.domain, "--scope", "all", "--confirm-app-principal"]
            let run = try await h.ctlWithBrowser(arguments) { _, url in
                let authorize = try await Browser.get(url)
                let location = try #require(authorize.location)
                // A local user who found the port sends redirects of their own first: refused, nothing redeemed,
                // and the consent is not aborted by them.
                for forgedState in ["forged-state", ""] {
                    let forged = try await Browser.get(try Browser.replacing("state", with: forgedState, in: location))
                    #expect(forged.status == 400, "\(forged.body)")
                    #expect(forged.body.contains("state parameter does not match"), "\(forged.body)")
                }
                let genuine = try await Browser.get(location)
                #expect(genuine.status == 200 && genuine.body.contains("Signed in"), "the administrator's redirect was not taken: \(genuine.status) \(genuine.body)")
            }
            #expect(run.status == 0, "\(run.all)")
            let account = try #require(try await h.account("sharepoint-online"))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .active, "\(run.all)")
            #expect(detail.grants.count == 1, "the genuine redirect's code was redeemed once")
        }
    }

    @Test func authCodeWithAnAlteredCodeChallengeIsRejectedByTheIdentityPlatform() async throws {
        try await ProvisioningHarness.with { h in
            // Someone swapped the code_challenge of the sign-in URL for their own: the code is bound to it,
            // and the daemon's verifier no longer matches (RFC 7636 §4.6; Microsoft answers AADSTS501481).
            let attacker = PKCE(verifier: String(repeating: "a", count: 43))
            let run = try await h.ctlWithBrowser(["provision", "onedrive", "--tenant", h.tenant.domain, "--scope", "all"]) { _, url in
                let altered = try Browser.replacing("code_challenge", with: attacker.challenge, in: url)
                let (_, listener) = try await Browser.signIn(altered)
                #expect(listener.status == 200, "the redirect itself is well formed: \(listener.body)")
            }
            #expect(run.status != 0)
            #expect(run.all.contains("AADSTS501481"), "\(run.all)")
            #expect(run.all.contains("PKCE code verifier does not match"), "\(run.all)")
            let account = try #require(try await h.account("onedrive"))
            let detail = try await h.detail(account.id)
            #expect(detail.provisioningStep == "consent-graph" && detail.grants.isEmpty)
        }
    }

    @Test func authCodeAnsweredByAnAdminConsentRedirectSaysNoCodeCameBack() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.ctlWithBrowser(["provision", "exchange-online-inline", "--tenant", h.tenant.domain]) { _, url in
                // The administrator used the tenant-wide admin-consent link with this step's redirect and state.
                var components = try #require(URLComponents(string: "\(h.baseURL)/\(h.tenant.id)/adminconsent"))
                components.queryItems = ["client_id", "redirect_uri", "state"].map { URLQueryItem(name: $0, value: Browser.parameter($0, in: url)) }
                let (consent, listener) = try await Browser.signIn(try #require(components.string))
                #expect(Browser.parameter("admin_consent", in: consent.location ?? "") == "True")
                #expect(listener.status == 200)
            }
            #expect(run.status != 0)
            #expect(run.all.contains("admin_consent=True") && run.all.contains("sent no authorization code"), "\(run.all)")
            let account = try #require(try await h.account("exchange-online-inline"))
            #expect(try await h.detail(account.id).provisioningStep == "consent-mail-flow")
        }
    }
}
