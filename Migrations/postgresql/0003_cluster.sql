-- tenantsync PostgreSQL schema version 3: the cluster. Several daemons on one
-- database announce themselves in `nodes` and share the work through `leases`
-- (Sources/TenantSyncCore/Cluster/LeaseStore.swift says what they promise).
-- Expiry is judged by the server's clock_timestamp(), never a daemon's clock.

-- One row per daemon (its [daemon] node_name), kept after it stops so an
-- operator sees when it was last heard from.
CREATE TABLE nodes (
    name               text PRIMARY KEY,
    version            text NOT NULL,
    started_at         timestamptz NOT NULL,
    last_heartbeat_at  timestamptz NOT NULL
);

-- One row per item of work ever claimed: kind and key name the item (a grant
-- id, a tenant id, an outbox row, a provisioning). The row stays after a
-- release (holder NULL) so that epoch only ever grows: every claim adds one,
-- and a write fenced by a lease checks holder and epoch in its transaction.
CREATE TABLE leases (
    kind        text NOT NULL CHECK (kind IN ('token-refresh', 'sync', 'delivery', 'consent-session')),
    key         text NOT NULL,
    holder      text,
    epoch       bigint NOT NULL CHECK (epoch >= 0),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);
-- A node's leases (renewal, release, the nodes listing's counts).
CREATE INDEX leases_by_holder ON leases (holder, kind) WHERE holder IS NOT NULL;

-- Due grants are found through token_sets_by_next_refresh (0001); a claim of
-- given keys through the primary key.
