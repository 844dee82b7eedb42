-- tenantsync PostgreSQL schema version 4: a device-code consent shown to an
-- administrator and not answered yet is kept in the store, one per account, so
-- that whichever node continues the provisioning polls the code the
-- administrator already has (the node that showed it may have stopped). The
-- device code lets its holder redeem the sign-in: it is sealed like a token.
-- (SQLite's 0011_consent_sessions.sql, same columns.)

CREATE TABLE consent_sessions (
    account_id          bigint PRIMARY KEY REFERENCES service_accounts(id) ON DELETE CASCADE,
    stage               text NOT NULL,
    device_code_sealed  bytea NOT NULL,
    user_code           text NOT NULL,
    verification_uri    text NOT NULL,
    message             text,
    interval_seconds    integer NOT NULL CHECK (interval_seconds >= 0),
    scopes              text NOT NULL,
    expires_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL
);
