/// Certificate credentials of apps (Graph `keyCredentials`), for client assertions.
extension M365Emulator {
    /// Uploads a certificate to an app; the app's other certificates stay valid, so a rotation needs no downtime
    /// (Graph `application: addKey`).
    /// - Returns: the certificate's `x5t#S256` thumbprint.
    @discardableResult
    public func addCertificate(tenant: String, appId: String, pem: String) throws(EmulatorError) -> String {
        let certificate = try AppCertificate(pem: pem)
        return try withTenant(tenant) { w, t throws(EmulatorError) in
            guard var app = w.tenants[t].apps[appId.lowercased()] else { throw .notFound("No app '\(appId)' in tenant") }
            // Uploading the same certificate twice changes nothing, as at Microsoft.
            guard !app.keyCredentials.contains(where: { $0.thumbprintSHA256 == certificate.thumbprintSHA256 }) else {
                return certificate.thumbprintSHA256
            }
            app.keyCredentials.append(certificate)
            app.registration.certificates = (app.registration.certificates ?? []) + [pem]
            w.tenants[t].apps[appId.lowercased()] = app
            return certificate.thumbprintSHA256
        }
    }

    /// Removes a certificate by its `x5t#S256` thumbprint; assertions signed with it then fail with AADSTS700027
    /// (Graph `application: removeKey`).
    public func removeCertificate(tenant: String, appId: String, thumbprint: String) throws(EmulatorError) {
        try withTenant(tenant) { w, t throws(EmulatorError) in
            guard var app = w.tenants[t].apps[appId.lowercased()] else { throw .notFound("No app '\(appId)' in tenant") }
            guard let index = app.keyCredentials.firstIndex(where: { $0.thumbprintSHA256 == thumbprint }) else {
                throw .notFound("The app '\(appId)' has no certificate with thumbprint \(thumbprint)")
            }
            app.keyCredentials.remove(at: index)
            if var pems = app.registration.certificates, index < pems.count {
                pems.remove(at: index)
                app.registration.certificates = pems.isEmpty ? nil : pems
            }
            w.tenants[t].apps[appId.lowercased()] = app
        }
    }
}
