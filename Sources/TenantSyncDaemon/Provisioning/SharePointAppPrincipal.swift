/// What the administrator does on the SharePoint admin site for SharePoint Online and OneDrive.
///
/// The steps: paste the App Id on `AppInv.aspx`, look it up, enter the app domain
/// and redirect URL, paste the permission XML, create and trust it, then verify on
/// `TA_AllAppPrincipals.aspx`.
struct SharePointAppPrincipal: Sendable {
    /// The `AppPermissionRequests` XML the administrator pastes: app-only, Manage on the tenant's content.
    static let permissionXML = """
        <AppPermissionRequests AllowAppOnlyPolicy="true">
        <AppPermissionRequest Scope="http://sharepoint/content/tenant" Right="Manage" />
        </AppPermissionRequests>
        """

    var appID: String
    var tenantDomain: String
    var redirectURL: String

    /// `https://contoso-admin.sharepoint.com` for `contoso.onmicrosoft.com`.
    var adminSite: String {
        let name = tenantDomain.split(separator: ".").first.map(String.init) ?? tenantDomain
        return "https://\(name)-admin.sharepoint.com"
    }

    var appInvURL: String { "\(adminSite)/_layouts/15/AppInv.aspx" }
    var verifyURL: String { "\(adminSite)/_layouts/15/TA_AllAppPrincipals.aspx" }

    /// The instructions shown with the step.
    var instructions: String {
        """
        Grant the SharePoint app principal: open \(appInvURL), paste the App Id \(appID) and click Lookup; \
        enter the redirect URL \(redirectURL); paste the permission request XML below; click Create, then Trust It. \
        Verify it on \(verifyURL), then confirm this step.
        """
    }

    /// The manual clean-up after deprovisioning.
    var cleanUp: String {
        "Remove the app principal \(appID) on \(verifyURL) (Microsoft keeps it until an administrator deletes it)."
    }
}
