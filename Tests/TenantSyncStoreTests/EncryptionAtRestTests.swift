import Credentials
import Foundation
import Logging
import Synchronization
import Testing
@testable import TenantSyncStore
import TenantSyncCore

@Suite("Secrets at rest")
struct EncryptionAtRestTests {
    static let knownAccessToken = "EwBwA8l6BAAUAOyDv0l6PcCVu89kmzvqZmkWABkAAQ-known-access-token"
    static let knownRefreshToken = "M.R3_BAY.-known-refresh-token-CfxPOdUw9yLx"
    static let knownClientSecret = "Qx8Q~known-client-secret~WmA1"

    /// Reads every file SQLite wrote: the database, its WAL and shared memory.
    static func bytesOnDisk(_ databasePath: String) -> Data {
        var all = Data()
        for suffix in ["", "-wal", "-shm", "-journal"] {
            if let data = FileManager.default.contents(atPath: databasePath + suffix) { all.append(data) }
        }
        return all
    }

    @Test func knownTokensAppearNowhereInTheDatabaseOrItsWAL() async throws {
        let fixture = try StoreFixture()
        let (_, account, ews, _) = try await fixture.seedExchangeAccount()
        let now = Date()
        try await fixture.store.storeTokenSet(
            grantID: ews.id,
            tokens: TokenSet(accessToken: Secret(Self.knownAccessToken), refreshToken: Secret(Self.knownRefreshToken), scopes: ["x"], obtainedAt: now, expiresAt: now + 3600),
            nextRefreshAt: now + 3000
        )
        try await fixture.store.setClientSecret(accountID: account.id, appID: "app", secret: Secret(Self.knownClientSecret), expiresAt: nil)

        // While open: the new pages sit in the WAL.
        let walBytes = Self.bytesOnDisk(fixture.databasePath)
        #expect(walBytes.count > 0)
        for secret in [Self.knownAccessToken, Self.knownRefreshToken, Self.knownClientSecret] {
            #expect(walBytes.range(of: Data(secret.utf8)) == nil, "a secret is readable in the database files while open")
            #expect(walBytes.range(of: Data(secret.prefix(16).utf8)) == nil, "a secret prefix is readable while open")
        }
        // The check can fail: a plain-text column with the same value is found.
        try await fixture.store.setAccountDetails(id: account.id, detailsJSON: "{\"probe\":\"\(Self.knownAccessToken)\"}")
        #expect(Self.bytesOnDisk(fixture.databasePath).range(of: Data(Self.knownAccessToken.utf8)) != nil, "the scan must see plain text")
        try await fixture.store.setAccountDetails(id: account.id, detailsJSON: "{}")

        // After a checkpoint and close: the main file holds everything.
        try fixture.store.close()
        let reopened = try SQLiteStore(path: fixture.databasePath, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        #expect(try await reopened.tokenSet(grantID: ews.id)?.refreshToken == Secret(Self.knownRefreshToken))
        try reopened.close()
        let closedBytes = Self.bytesOnDisk(fixture.databasePath)
        for secret in [Self.knownRefreshToken, Self.knownClientSecret] {
            #expect(closedBytes.range(of: Data(secret.utf8)) == nil, "a secret is readable in the closed database")
        }
    }

    @Test func aDifferentKeyCannotOpenSecrets() async throws {
        let fixture = try StoreFixture()
        let (_, _, ews, _) = try await fixture.seedExchangeAccount()
        try await fixture.store.storeTokenSet(
            grantID: ews.id,
            tokens: TokenSet(accessToken: Secret("a"), refreshToken: Secret("r"), scopes: [], obtainedAt: .now, expiresAt: .now),
            nextRefreshAt: .now
        )
        try fixture.store.close()
        let wrongKey = try SQLiteStore(path: fixture.databasePath, sealer: SecretSealer(keyBytes: Array(repeating: 1, count: 32)), logger: Logger(label: "test"))
        let error = await #expect(throws: TenantSyncError.self) { try await wrongKey.tokenSet(grantID: ews.id) }
        #expect(error?.code == .secretCorrupted)
        #expect(error.map { !"\($0)".contains("\"r\"") } == true)
    }

    @Test func keyFileIsCreatedWithMode0600AndReadBack() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("tenantsync.key")
        let created = try SecretKeyFile.loadOrCreate(path: path, mayCreate: true)
        #expect(created.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try SecretKeyFile.loadOrCreate(path: path, mayCreate: true) == created, "the key must be stable across starts")
        let raw = directory.file("raw.key")
        try Data(repeating: 9, count: 32).write(to: URL(fileURLWithPath: raw))
        #expect(try SecretKeyFile.loadOrCreate(path: raw, mayCreate: false) == Array(repeating: 9, count: 32))
        let short = directory.file("short.key")
        try Data("too short".utf8).write(to: URL(fileURLWithPath: short))
        #expect(throws: TenantSyncError.self) { try SecretKeyFile.loadOrCreate(path: short, mayCreate: false) }
        #expect(throws: TenantSyncError.self) { try SecretKeyFile.loadOrCreate(path: directory.file("absent.key"), mayCreate: false) }
    }

    /// Starts racing to create the key all end up with the same, complete key: the loser of the race
    /// reads the winner's file, never a half-written or empty one, and never replaces it.
    @Test func concurrentFirstStartsAllGetTheOneCompleteKey() throws {
        for round in 0..<40 {
            let directory = try TemporaryDirectory()
            let path = directory.file("tenantsync.key")
            let results = Mutex<[Result<[UInt8], any Error>]>([])
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                let result = Result { try SecretKeyFile.loadOrCreate(path: path, mayCreate: true) }
                results.withLock { $0.append(result) }
            }
            let keys = try results.withLock { $0 }.map { try $0.get() }
            #expect(Set(keys.map { Data($0) }).count == 1, "round \(round): the starts disagree on the key")
            let onDisk = try SecretKeyFile.loadOrCreate(path: path, mayCreate: false)
            #expect(keys.first == onDisk, "round \(round): the key in use is not the one on disk")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["tenantsync.key"], "no temporary file is left behind")
        }
    }

    @Test func aKeyFileGroupOrOthersCanReadIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("tenantsync.key")
        _ = try SecretKeyFile.loadOrCreate(path: path, mayCreate: true)
        for mode in [0o640, 0o604, 0o620] {
            #expect(chmod(path, mode_t(mode)) == 0)
            let error = #expect(throws: TenantSyncError.self, "mode \(String(mode, radix: 8)) must be refused") {
                try SecretKeyFile.loadOrCreate(path: path, mayCreate: true)
            }
            #expect(error?.code == .secretKeyUnavailable)
            #expect(error?.message.contains("chmod 600 \(path)") == true, "the message says what to do: \(String(describing: error?.message))")
        }
    }

    @Test func aKeyFileOfAnotherUserIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("tenantsync.key")
        _ = try SecretKeyFile.loadOrCreate(path: path, mayCreate: true)
        // The suite runs as root here; 65534 is "nobody".
        try #require(geteuid() == 0, "changing a file's owner needs root")
        #expect(chown(path, 65534, 65534) == 0)
        let error = #expect(throws: TenantSyncError.self, "a key another user owns must be refused") {
            try SecretKeyFile.loadOrCreate(path: path, mayCreate: true)
        }
        #expect(error?.context["reason"] == "owner")
        #expect(error?.message.contains("belongs to uid 65534") == true, "\(String(describing: error?.message))")
    }

    /// An empty file is what an interrupted non-atomic creation left: explained, and not overwritten
    /// (it might be a key lost to a crash with secrets still sealed under it in a backup).
    @Test func anEmptyKeyFileIsExplainedAndLeftAlone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("tenantsync.key")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o600]))
        let error = #expect(throws: TenantSyncError.self) { try SecretKeyFile.loadOrCreate(path: path, mayCreate: true) }
        #expect(error?.context["reason"] == "empty")
        #expect(error?.message.contains("is empty") == true && error?.message.contains("interrupted") == true, "\(String(describing: error?.message))")
        #expect(error?.message.contains("delete the empty file") == true, "the message says what to do")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty, "the file is left as found")
    }

    @Test func systemdCredentialWinsOverTheConfiguredFile() throws {
        let directory = try TemporaryDirectory()
        try Data(repeating: 3, count: 32).write(to: URL(fileURLWithPath: directory.file(SecretKeyFile.credentialName)))
        let location = SecretKeyFile.location(configured: "/nonexistent/key", environment: ["CREDENTIALS_DIRECTORY": directory.path])
        #expect(location.path == directory.file(SecretKeyFile.credentialName))
        #expect(location.mayCreate == false)
        let fallback = SecretKeyFile.location(configured: "/var/lib/x/key", environment: [:])
        #expect(fallback.path == "/var/lib/x/key" && fallback.mayCreate)
    }
}
