import Credentials
import Foundation
import TOMLKit
import TenantSyncCore

/// `[microsoft]` certificate credential keys: `client_certificate_file`, `client_key_file`, and `client_secret_expires`.
extension ConfigurationLoader {
    /// The largest key file read: a PEM RSA key of 8192 bits is about 6.5 KB.
    static let maximumKeyFileBytes = 64 * 1024

    func readCertificateKeys(_ microsoft: TOMLTable, into configuration: inout DaemonConfiguration, reader: TableReader) throws(ConfigurationError) {
        if let value = try reader.date(microsoft, "client_secret_expires", path: "microsoft.client_secret_expires") {
            configuration.microsoft.clientSecretExpires = value
        }
        if let value = try reader.path(microsoft, "client_certificate_file", path: "microsoft.client_certificate_file") {
            configuration.microsoft.clientCertificateFile = value
        }
        if let value = try reader.path(microsoft, "client_key_file", path: "microsoft.client_key_file") {
            configuration.microsoft.clientKeyFile = value
        }
        let section = configuration.microsoft
        guard section.clientCertificateFile != nil else {
            if section.clientKeyFile != nil {
                throw reader.error("microsoft.client_key_file", "client_key_file is set but client_certificate_file is not: the key signs with a certificate, name its PEM file too")
            }
            return
        }
        if section.clientSecretFile != nil {
            throw reader.error(
                "microsoft.client_certificate_file",
                "client_certificate_file and client_secret_file are mutually exclusive: the app authenticates either with a certificate or with a secret; remove one of them"
            )
        }
        if section.clientSecretExpires != nil {
            throw reader.error(
                "microsoft.client_secret_expires",
                "client_secret_expires applies to a client secret; with client_certificate_file the expiry is read from the certificate"
            )
        }
    }

    /// Reads the certificate and its private key and checks that they belong together.
    ///
    /// The key file is checked like the sealing key's (owner, mode 0600) unless it is a systemd
    /// credential. No error names anything read from the key.
    func readClientCertificate(_ section: DaemonConfiguration.MicrosoftSection, file: String, reader: TableReader?) throws(ConfigurationError) -> ClientCertificate? {
        guard let certificateFile = section.clientCertificateFile else { return nil }
        let credentials = environment["CREDENTIALS_DIRECTORY"].flatMap { $0.isEmpty ? nil : $0 }
        func line(_ key: String) -> Int? { reader?.locator.line(of: key) }

        let certificatePath = resolve(certificateFile, credentials: credentials).path
        guard let certificateData = FileManager.default.contents(atPath: certificatePath) else {
            throw ConfigurationError(
                file: file, line: line("microsoft.client_certificate_file"), message: "cannot read the certificate file \(certificatePath)"
            )
        }

        let keyPath: String
        let keyIsCredential: Bool
        let keyKey = section.clientKeyFile != nil ? "microsoft.client_key_file" : "microsoft.client_certificate_file"
        if let explicit = section.clientKeyFile {
            (keyPath, keyIsCredential) = resolve(explicit, credentials: credentials)
        } else if let credentials, FileManager.default.fileExists(atPath: credentials + "/" + ConfigurationDefaults.clientKeyCredential) {
            (keyPath, keyIsCredential) = (credentials + "/" + ConfigurationDefaults.clientKeyCredential, true)
        } else {
            throw ConfigurationError(
                file: file, line: line("microsoft.client_certificate_file"),
                message: "client_certificate_file is set but there is no private key: set client_key_file, or pass the key as the systemd credential \(ConfigurationDefaults.clientKeyCredential) (LoadCredential=)"
            )
        }
        let keyData: Data
        do {
            keyData = try PrivateFile.read(
                path: keyPath, what: "client key file", requirePrivate: !keyIsCredential, maximumBytes: Self.maximumKeyFileBytes
            )
        } catch {
            throw ConfigurationError(file: file, line: line(keyKey), message: error.message)
        }
        do {
            return try ClientCertificate(
                certificatePEM: String(decoding: certificateData, as: UTF8.self), privateKeyPEM: Secret(String(decoding: keyData, as: UTF8.self))
            )
        } catch {
            let place = error.code == .certificateUnreadable ? "microsoft.client_certificate_file" : keyKey
            throw ConfigurationError(
                file: file, line: line(place), message: "\(error.message) (certificate \(certificatePath), key \(keyPath))"
            )
        }
    }

    /// A relative name is a systemd credential when `$CREDENTIALS_DIRECTORY` is set, as for the secret files.
    private func resolve(_ name: String, credentials: String?) -> (path: String, isCredential: Bool) {
        if !name.hasPrefix("/"), let credentials { return (credentials + "/" + name, true) }
        return (name, false)
    }
}
