-- tenantsync schema version 8: app credentials that expire, and the expiry
-- alerts already raised for them.
--
-- One row per credential the daemon authenticates with: the product app's
-- secret or certificate ('product') and each Teams Chat account's own app
-- ('account:<id>'). `alerted_days` is the last threshold alerted (30, 7, 1,
-- or 0 for "expired"), so each alert is raised once, across restarts; a new
-- expiry (a rotated secret or certificate) clears it.
--
-- Expiries stored before this version (a Teams app secret's) are carried over.

CREATE TABLE credential_expiries (
    credential   TEXT PRIMARY KEY,            -- 'product' or 'account:<id>'
    account_id   INTEGER REFERENCES service_accounts(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('secret', 'certificate')),
    thumbprint   TEXT,                        -- a certificate's SHA-1 thumbprint (hex), as Entra lists it
    expires_at   TEXT NOT NULL,
    alerted_days INTEGER,
    updated_at   TEXT NOT NULL
);

INSERT INTO credential_expiries (credential, account_id, kind, expires_at, updated_at)
    SELECT 'account:' || id, id, 'secret', client_secret_expires_at, updated_at
    FROM service_accounts WHERE client_secret_expires_at IS NOT NULL;
