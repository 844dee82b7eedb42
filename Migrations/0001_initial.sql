-- tenantsync schema version 1: tenants, service accounts, grants and tokens,
-- incidents, sync scope and targets, the directory, sync runs, alerts and the
-- per-channel outbox.

CREATE TABLE tenants (
    id              TEXT PRIMARY KEY NOT NULL,          -- Entra tenant id, lower-case GUID
    domain          TEXT NOT NULL UNIQUE COLLATE NOCASE, -- primary domain
    display_name    TEXT,
    sync_scope      TEXT NOT NULL DEFAULT 'all' CHECK (sync_scope IN ('all', 'selected')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE service_accounts (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    service              TEXT NOT NULL CHECK (service IN (
                             'exchange-online', 'exchange-online-inline',
                             'sharepoint-online', 'onedrive', 'teams-chat')),
    state                TEXT NOT NULL DEFAULT 'provisioning'
                             CHECK (state IN ('provisioning', 'active', 'token-invalid')),
    provisioning_step    TEXT,                  -- the open or failed step while provisioning
    provisioning_error   TEXT,                  -- why that step failed, if it did
    app_id               TEXT,                  -- the app the account's grants belong to
    client_secret_sealed BLOB,                  -- Teams Chat's own app secret (AES-GCM)
    client_secret_expires_at TEXT,
    licensing_model      TEXT CHECK (licensing_model IN ('A', 'B', 'evaluation')),
    details_json         TEXT NOT NULL DEFAULT '{}', -- per-service provisioning facts
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    UNIQUE (tenant_id, service)
);

CREATE TABLE grants (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES service_accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,                 -- 'ews', 'graph', 'app', ...
    resource      TEXT NOT NULL,                 -- the .default scope it asks for
    flow          TEXT NOT NULL CHECK (flow IN ('delegated', 'client-credentials')),
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'valid', 'invalid')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (account_id, name)
);

-- One token set per grant. Tokens are sealed; the clear columns are what an
-- operator may read (expiry, outcome, schedule).
CREATE TABLE token_sets (
    grant_id              INTEGER PRIMARY KEY NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    access_token_sealed   BLOB NOT NULL,
    refresh_token_sealed  BLOB,
    scopes                TEXT NOT NULL DEFAULT '',
    obtained_at           TEXT NOT NULL,
    expires_at            TEXT NOT NULL,
    refresh_in_at         TEXT,                  -- Microsoft's refresh_in hint, if sent
    next_refresh_at       TEXT NOT NULL,
    last_refresh_at       TEXT,
    last_refresh_outcome  TEXT,                  -- 'ok', 'transient: ...', 'permanent: ...'
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    generation            INTEGER NOT NULL DEFAULT 1 -- bumped on every stored rotation
);
CREATE INDEX token_sets_by_next_refresh ON token_sets(next_refresh_at);

-- A grant that stopped working. At most one unresolved incident per grant and kind.
CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    grant_id        INTEGER REFERENCES grants(id) ON DELETE SET NULL,
    account_id      INTEGER REFERENCES service_accounts(id) ON DELETE SET NULL,
    kind            TEXT NOT NULL,               -- 'token-invalid', 'token-refresh-failing', ...
    error           TEXT,                        -- OAuth error field, e.g. invalid_grant
    aadsts_code     INTEGER,
    trace_id        TEXT,
    correlation_id  TEXT,
    first_seen_at   TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    occurrences     INTEGER NOT NULL DEFAULT 1,
    resolved_at     TEXT
);
CREATE UNIQUE INDEX incidents_one_open_per_grant
    ON incidents(grant_id, kind) WHERE resolved_at IS NULL;

-- Users explicitly protected by a 'selected' scope (at most 100 per tenant,
-- enforced by the application where the error can be explained).
CREATE TABLE selected_targets (
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_principal_name  TEXT NOT NULL COLLATE NOCASE,
    user_id              TEXT,
    source               TEXT NOT NULL CHECK (source IN ('upn', 'group')),
    added_at             TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_principal_name)
) WITHOUT ROWID;

-- The synchronized Entra ID directory.
CREATE TABLE directory_users (
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id                   TEXT NOT NULL,
    user_principal_name  TEXT NOT NULL,
    display_name         TEXT,
    mail                 TEXT,
    account_enabled      INTEGER NOT NULL DEFAULT 1,
    synced_at            TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX directory_users_by_upn ON directory_users(tenant_id, user_principal_name COLLATE NOCASE);

CREATE TABLE directory_groups (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    display_name  TEXT,
    mail          TEXT,
    synced_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX directory_groups_by_name ON directory_groups(tenant_id, display_name COLLATE NOCASE);

CREATE TABLE group_members (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    member_type  TEXT NOT NULL CHECK (member_type IN ('user', 'group', 'other')),
    PRIMARY KEY (tenant_id, group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX group_members_by_member ON group_members(tenant_id, member_id);

-- Graph delta links, committed only together with the data they cover.
CREATE TABLE delta_links (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    resource    TEXT NOT NULL CHECK (resource IN ('users', 'groups')),
    link        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, resource)
) WITHOUT ROWID;

CREATE TABLE sync_runs (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    service              TEXT,                  -- NULL for a whole-tenant run
    trigger              TEXT NOT NULL CHECK (trigger IN ('daily', 'manual', 'extend', 'provision')),
    mode                 TEXT NOT NULL CHECK (mode IN ('full', 'delta')),
    state                TEXT NOT NULL DEFAULT 'running'
                             CHECK (state IN ('running', 'succeeded', 'failed', 'held')),
    started_at           TEXT NOT NULL,
    finished_at          TEXT,
    pages                INTEGER NOT NULL DEFAULT 0,
    users_added          INTEGER NOT NULL DEFAULT 0,
    users_changed        INTEGER NOT NULL DEFAULT 0,
    users_removed        INTEGER NOT NULL DEFAULT 0,
    groups_added         INTEGER NOT NULL DEFAULT 0,
    groups_changed       INTEGER NOT NULL DEFAULT 0,
    groups_removed       INTEGER NOT NULL DEFAULT 0,
    memberships_added    INTEGER NOT NULL DEFAULT 0,
    memberships_removed  INTEGER NOT NULL DEFAULT 0,
    error                TEXT
);
CREATE INDEX sync_runs_by_tenant ON sync_runs(tenant_id, started_at);

-- Alerts and their per-channel deliveries: the durable outbox.
CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,              -- 'account-protected', 'token-invalid', ...
    severity      TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    tenant_id     TEXT,
    account_id    INTEGER,
    grant_id      INTEGER,
    incident_id   INTEGER REFERENCES incidents(id) ON DELETE SET NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    details_json  TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    acknowledged_at TEXT
);
CREATE INDEX alerts_by_created ON alerts(created_at);

CREATE TABLE alert_deliveries (
    alert_id         INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,            -- 'journal', 'smtp', 'hook:NAME'
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    delivered_at     TEXT,
    PRIMARY KEY (alert_id, channel)
) WITHOUT ROWID;
CREATE INDEX alert_deliveries_pending ON alert_deliveries(next_attempt_at) WHERE state = 'pending';
