-- tenantsync schema version 11: a device-code consent shown to an administrator
-- and not answered yet is kept in the store, one per account, so that a
-- provisioning continued later (by this daemon after a restart, or by another
-- daemon of a cluster) polls the code the administrator already has instead of
-- showing a new one. The device code lets its holder redeem the sign-in: it is
-- sealed like a token (AES-GCM under the store's key, bound to the row).

CREATE TABLE consent_sessions (
    account_id          INTEGER PRIMARY KEY REFERENCES service_accounts(id) ON DELETE CASCADE,
    stage               TEXT NOT NULL,
    device_code_sealed  BLOB NOT NULL,
    user_code           TEXT NOT NULL,
    verification_uri    TEXT NOT NULL,
    message             TEXT,
    interval_seconds    INTEGER NOT NULL CHECK (interval_seconds >= 0),
    scopes              TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
